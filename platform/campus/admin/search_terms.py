"""The admin lists' search terms and text filters, read into LIKE patterns every database takes."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla import filters
from flask_admin.contrib.sqla.tools import parse_like_term

from campus.extensions import db


def whole_term(term: str) -> str:
    """Return a search term whose pattern would end in a lone backslash with it escaped.

    Flask-Admin reads "=x" as exactly x, so "=C:\\" asks for text ending in a backslash; on
    PostgreSQL the backslash is LIKE's escape character and a pattern ending in one is an
    error (a 500). SQLite has no escape character unless told, so its pattern is left alone.
    """
    pattern = parse_like_term(term)
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2 and db.engine.dialect.name == "postgresql":
        return term + "\\"
    return term


def like_pattern(term: str) -> str:
    """Flask-Admin's LIKE pattern of a search term, safe to send (see whole_term)."""
    return parse_like_term(whole_term(term))


class WholeSearchTerms:
    """A model view whose list search sends every term as a pattern the database takes."""

    def _apply_search(
        self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str
    ):
        search = " ".join(whole_term(term) for term in search.split(" "))
        return super()._apply_search(query, count_query, joins, count_joins, search)  # type: ignore[misc]


class _WholeTermLike(filters.FilterLike):
    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return super().apply(query, whole_term(value), alias)


class _WholeTermNotLike(filters.FilterNotLike):
    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return super().apply(query, whole_term(value), alias)


_SWAPPED = {filters.FilterLike: _WholeTermLike, filters.FilterNotLike: _WholeTermNotLike}


class WholeTermFilterConverter(filters.FilterConverter):
    """Flask-Admin's filters, whose "contains" and "not contains" take any term (whole_term)."""

    strings = tuple(_SWAPPED.get(f, f) for f in filters.FilterConverter.strings)
