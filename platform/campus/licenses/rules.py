"""Renewal rules as data: read and check the YAML file, and import it (by jurisdiction, profession).

`data/renewal_rules.yaml` is the shipped set; `flask licenses import-rules [FILE]` loads it (or
another file in the same format) and `flask seed-demo` adds the rows that are missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from campus.accounts.models import PROFESSIONS
from campus.accounts.rules import invisible_mark
from campus.audit import changed_fields, record, snapshot
from campus.extensions import db
from campus.integers import is_plain_decimal
from campus.learning.models import DELIVERY_TYPES, SUBJECTS
from campus.licenses.jurisdictions import JURISDICTIONS
from campus.licenses.models import RenewalRule
from campus.yamlfiles import UniqueKeyLoader

RULES_FILE = Path(__file__).resolve().parent / "data" / "renewal_rules.yaml"
# Self-paced delivery: what "home study" means unless a rule names its own capped deliveries.
DEFAULT_CAPPED = ["home_study", "recorded_webinar"]
_FIELDS = {
    "jurisdiction",
    "profession",
    "board",
    "hours_per_cycle",
    "cycle_months",
    "max_home_study_hours",
    "capped_deliveries",
    "required_subjects",
    "accepted_approvals",
    "voluntary",
    "notes",
    "source",
    "source_url",
}
# Members follow the link from their tracker: anything else is a link to a page of ours.
_WEB_ADDRESS = re.compile(r"^https?://[^\s/?#\"'<>]+[^\s\"'<>]*$", re.IGNORECASE)


class RuleFileError(ValueError):
    """A renewal rule that cannot be used, with where it is and why."""


@dataclass(frozen=True)
class RuleSpec:
    """One checked rule, ready to be stored."""

    values: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return self.values["jurisdiction"], self.values["profession"]


def _hours(value: Any, where: str, *, optional: bool = False) -> Decimal | None:
    if value is None and optional:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not is_plain_decimal(text):
        raise RuleFileError(f"{where}: expected a number of hours, got {value!r}")
    hours = Decimal(text)
    if hours < 0 or hours > 1000:
        raise RuleFileError(f"{where}: hours must be between 0 and 1000")
    # The columns keep two decimals: more would be rounded away without a word.
    if hours != hours.quantize(Decimal("0.01")):
        raise RuleFileError(f"{where}: hours have more than two decimals")
    return hours.quantize(Decimal("0.01"))


def _text(data: dict, key: str, where: str) -> str:
    """A field that holds text (a number reads as its digits); absent is empty."""
    value = data.get(key)
    if value is None:
        return ""
    # str() of a list or mapping would be stored and shown to members: "['A', 'B']".
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RuleFileError(f"{where}: {key} must be text, not {value!r}")
    text = str(value)
    # Notes may be a block of lines (joined into one when stored); other fields are one line.
    mark = invisible_mark("".join(text.split()) if key == "notes" else text.strip())
    if mark:
        # A NUL fails the import on PostgreSQL; the others reach members' trackers as they are.
        raise RuleFileError(
            f"{where}: {key} holds an invisible control or text-direction character ({mark})"
        )
    return text


def _flag(data: dict, key: str, where: str) -> bool:
    """True or false (absent is false); bool() would read the text "no" as true."""
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RuleFileError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def check_rule(data: Any, where: str) -> RuleSpec:
    """Check one rule's fields (as in the YAML file or the admin form) and normalise them."""
    if not isinstance(data, dict):
        raise RuleFileError(f"{where}: expected a mapping of fields")
    # As text: YAML reads a key like 12 or null as a number or None, which join cannot take.
    unknown = sorted(map(str, set(data) - _FIELDS))
    if unknown:
        raise RuleFileError(f"{where}: unknown field(s) {', '.join(unknown)}")
    jurisdiction = str(data.get("jurisdiction") or "").strip().upper()
    if jurisdiction not in JURISDICTIONS:
        raise RuleFileError(f"{where}: unknown jurisdiction {jurisdiction!r}")
    profession = str(data.get("profession") or "")
    if profession not in PROFESSIONS:
        raise RuleFileError(f"{where}: unknown profession {profession!r}")
    where = f"{where} ({jurisdiction} {profession})"
    source = _text(data, "source", where).strip()
    if not source:
        raise RuleFileError(f"{where}: every rule cites its source")
    months = data.get("cycle_months", 24)
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120:
        raise RuleFileError(f"{where}: cycle_months must be a whole number from 1 to 120")
    subjects = data.get("required_subjects") or {}
    if not isinstance(subjects, dict):
        raise RuleFileError(f"{where}: required_subjects must map a subject to hours")
    for subject in subjects:
        if subject not in SUBJECTS:
            raise RuleFileError(f"{where}: unknown subject {subject!r}")
    required = {k: str(_hours(v, f"{where} {k}")) for k, v in sorted(subjects.items())}
    capped = data.get("capped_deliveries") or DEFAULT_CAPPED
    # Each item is checked to be text first: a list or mapping cannot be looked up in the dict.
    if not isinstance(capped, list) or any(
        not isinstance(d, str) or d not in DELIVERY_TYPES for d in capped
    ):
        raise RuleFileError(f"{where}: capped_deliveries must list delivery types")
    approvals = data.get("accepted_approvals") or []
    if not isinstance(approvals, list) or not all(isinstance(a, str) for a in approvals):
        raise RuleFileError(f"{where}: accepted_approvals must be a list of board names")
    for approval in approvals:
        # Each board's name is one line of text, as the rule's others (see _text).
        _text({"accepted_approvals": approval}, "accepted_approvals", where)
    source_url = _text(data, "source_url", where).strip()
    if source_url and not _WEB_ADDRESS.match(source_url):
        raise RuleFileError(
            f"{where}: source_url must be a web address starting with https:// (or http://)"
        )
    board = _text(data, "board", where).strip()
    # The columns' sizes: cut, a source link would be a broken one.
    for key, value, limit in (("board", board, 200), ("source_url", source_url, 500)):
        if len(value) > limit:
            raise RuleFileError(f"{where}: {key} is longer than {limit} characters")
    total = _hours(data.get("hours_per_cycle"), f"{where} hours_per_cycle")
    assert total is not None
    if sum((Decimal(v) for v in required.values()), Decimal(0)) > total:
        raise RuleFileError(f"{where}: required subjects add up to more than the cycle's hours")
    return RuleSpec(
        {
            "jurisdiction": jurisdiction,
            "profession": profession,
            "board": board,
            "hours_per_cycle": total,
            "cycle_months": months,
            "max_home_study_hours": _hours(
                data.get("max_home_study_hours"), f"{where} max_home_study_hours", optional=True
            ),
            "capped_deliveries": list(capped),
            "required_subjects": required,
            "accepted_approvals": [a.strip().upper() for a in approvals if a.strip()],
            "voluntary": _flag(data, "voluntary", where),
            "notes": " ".join(_text(data, "notes", where).split()),
            "source": source,
            "source_url": source_url,
        }
    )


def read_rules(path: Path = RULES_FILE) -> list[RuleSpec]:
    """Read and check every rule in a YAML file; a bad row refuses the whole file."""
    try:
        # A field written twice is refused: plain YAML would keep the last one unsaid.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    except UnicodeDecodeError:
        raise RuleFileError(f"{path.name} is not UTF-8 text: save it as UTF-8") from None
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path.name}: {exc}") from None
    except ValueError as exc:
        # YAML read a value Python cannot build: a date like 2027-02-30, or an integer past
        # Python's 4,300-digit conversion limit (whose message points at sys internals).
        why = "a number is too long" if "integer string" in str(exc) else str(exc)
        raise RuleFileError(f"{path.name}: {why}") from None
    if not isinstance(data, list):
        raise RuleFileError(f"{path.name}: expected a list of rules")
    specs = [check_rule(item, f"{path.name} rule {n}") for n, item in enumerate(data, 1)]
    seen: set[tuple[str, str]] = set()
    for spec in specs:
        if spec.key in seen:
            raise RuleFileError(f"{path.name}: {spec.key[0]} {spec.key[1]} appears twice")
        seen.add(spec.key)
    return specs


def import_rules(specs: list[RuleSpec], *, replace: bool) -> dict[str, list[str]]:
    """Store rules by (jurisdiction, profession): add missing ones; with replace, update others."""
    report: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
    for spec in specs:
        label = f"{spec.key[0]} {spec.key[1]}"
        rule = db.session.scalar(
            select(RenewalRule).where(
                RenewalRule.jurisdiction == spec.key[0], RenewalRule.profession == spec.key[1]
            )
        )
        if rule is None:
            rule = RenewalRule(**spec.values)
            db.session.add(rule)
            db.session.flush()
            record(
                "renewal_rule_imported",
                rule,
                summary=f"cli: {label}: added from the rules file",
                after=snapshot(rule),
                actor=None,
            )
            report["created"].append(label)
            continue
        before = snapshot(rule)
        if not replace or all(before.get(k) == _plain(v) for k, v in spec.values.items()):
            report["unchanged"].append(label)
            continue
        for key, value in spec.values.items():
            setattr(rule, key, value)
        db.session.flush()
        after = snapshot(rule)
        # Only operators' commands import (the CLI and seed-demo), as the summary says.
        fields = ", ".join(changed_fields(before, after))
        summary = f"cli: {label}: replaced from the rules file ({fields})"
        record("renewal_rule_imported", rule, summary=summary, before=before, after=after)
        report["updated"].append(label)
    return report


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
