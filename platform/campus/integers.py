"""Numbers from URLs, query strings and forms, bounded to what the database can hold.

A path or query integer past what an id column holds (or written with non-ASCII digits) must
answer 404 or fall back to the default, never reach the database: SQLite raises OverflowError
past 64 bits and PostgreSQL a DataError past its 32-bit INTEGER, both of which would be a 500.
"""

from __future__ import annotations

import re

from flask import Flask, request
from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter, Map

# The largest value of an INTEGER column, which every id is (PostgreSQL's is signed 32-bit).
MAX_ID = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """Werkzeug's `int` converter that refuses values outside 1 to MAX_ID (no route matches).

    Every path integer is an id and ids start at 1; the API document declares the same bounds.
    """

    # Werkzeug's `\d+` matches every script's digits and int() reads them: "/lessons/٣" would
    # name lesson 3 under a second address, which the API document's `integer` does not describe.
    regex = r"[0-9]+"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 1,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(
            map, fixed_digits=fixed_digits, min=min, max=min_of(max, MAX_ID), signed=signed
        )


def min_of(value: int | None, bound: int) -> int:
    """Return value capped at bound (None means the bound itself)."""
    return bound if value is None else min(value, bound)


def register_converters(app: Flask) -> None:
    """Make every `<int:...>` route refuse out-of-range numbers with a 404."""
    app.url_map.converters["int"] = BoundedIntegerConverter


def is_digits(raw: str) -> bool:
    """Tell whether text is ASCII digits only, which int() always reads."""
    # str.isdigit() alone accepts "²" and other digits that int() then refuses.
    return raw.isascii() and raw.isdigit()


# A plain decimal number: "2", "2.5", ".5", "-1.25" (no exponent, underscore or other script).
_PLAIN_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def is_plain_decimal(raw: str) -> bool:
    """Tell whether the text is a decimal number in ASCII digits, as Decimal() should read it.

    Decimal() also reads "NaN", "Infinity", "1e3", "1_000" and other scripts' digits ("٢").
    """
    return _PLAIN_DECIMAL.fullmatch(raw) is not None


def whole_number(raw: object, maximum: int) -> int | None:
    """Read a whole number typed as text: ASCII digits from 0 to `maximum`, else None."""
    # The length first: int() raises ValueError on a run of more than 4,300 digits.
    if not isinstance(raw, str) or not is_digits(raw) or len(raw) > len(str(maximum)):
        return None
    value = int(raw)
    return value if value <= maximum else None


def id_from(raw: object) -> int | None:
    """Read a database id from text: ASCII digits from 1 to MAX_ID, else None."""
    value = whole_number(raw, MAX_ID)
    return value if value else None  # 0 is no id


def query_int(name: str, default: int, *, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """Read an integer query argument; anything absent, malformed or out of range is the default."""
    value = whole_number(request.args.get(name, ""), maximum)
    return value if value is not None and value >= minimum else default


def Id(**kwargs) -> fields.Integer:
    """Return a strict integer field for a database id: 1 to MAX_ID, else a 422."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class QueryInteger(fields.Integer):
    """An integer query argument written in ASCII digits only, else a 422."""

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        # int() alone also reads "1_0", " 7", "+7" and other scripts' digits, which the document's
        # `type: integer` does not describe.
        if isinstance(value, str) and not is_digits(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class QueryNumber(fields.Float):
    """A number query argument written as a plain decimal in ASCII digits, else a 422."""

    def _deserialize(self, value, attr, data, **kwargs) -> float:
        # float() alone also reads "1_0", "1e1", "nan" and other scripts' digits.
        if isinstance(value, str) and not is_plain_decimal(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)
