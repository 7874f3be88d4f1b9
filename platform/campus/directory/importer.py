"""Import directory profiles from a YAML file: the admins' bulk path, and the demo content.

Each entry names a member by email (created, without a usable password, when `create_members`
is set: the demo's practitioners) and the profile's fields; `published: true` lists it.
Every profile goes through the same action as the member's own form, so it is checked and
audited the same way, with the importer (an operator's command: "system") as the one who made
the change; a member created for a profile is logged too.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from email_validator import EmailNotValidError, validate_email

from campus.accounts.creation import create_member
from campus.accounts.models import User
from campus.accounts.rules import invisible_mark
from campus.accounts.services import AccountError, get_user_by_email, normalize_email
from campus.directory import actions, services
from campus.extensions import db
from campus.yamlfiles import UniqueKeyLoader

# The fields an entry may hold: any other is a misspelling, whose default would take its
# place unsaid (`contact_enabld: false` left the member open to messages).
_FIELDS = frozenset({
    "email", "full_name", "display_name", "zip_code", "practice_name", "street", "show_street",
    "bio", "website", "phone", "accepting_clients", "contact_enabled", "specialties",
    "professions", "published",
})  # fmt: skip


@dataclass
class ImportReport:
    """What an import did, by member email."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _member(entry: dict[str, Any], create: bool, actor: User | None) -> User | None:
    """The member an entry names, created (and logged) when missing and `create` is set."""
    email = normalize_email(str(entry.get("email", "")))
    mark = invisible_mark(email)
    if mark:
        # Checked before the lookup: PostgreSQL cannot even compare text holding a NUL.
        raise services.DirectoryError(
            f"{email!r} is not an email address: it holds a control character ({mark})"
        )
    user = get_user_by_email(email) if email else None
    if user is None and create and email:
        try:
            # A member made here never passed the sign-up form, which checks the address.
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            raise services.DirectoryError(f"{email} is not an email address: {exc}") from None
        # The profile is checked before a member is made from its names: one longer than its
        # column stopped the import at a database error on PostgreSQL.
        errors: dict[str, str] = {}
        profile = None
        try:
            profile, _place = services.check(_data(entry))
        except services.DirectoryError as exc:
            errors = dict(exc.errors) or {"": exc.message}
        try:
            full_name = _text(entry, "full_name").strip()
            full_name = full_name or (profile.display_name if profile else "") or email
            if len(full_name) > 120:  # the column's size
                raise services.DirectoryError("full_name is longer than 120 characters")
        except services.DirectoryError as exc:
            errors["full_name"] = exc.message
        if errors:
            raise services.DirectoryError.of_fields(_in_order(errors))
        try:
            user = create_member(
                email,
                # Nobody knows this password: the account exists to own the demo profile.
                secrets.token_urlsafe(24),
                full_name=full_name,
                profession=(_names(entry, "professions") or ["other"])[0],
                why="to own an imported directory profile",
                actor=actor,
            )
        except AccountError as exc:
            raise services.DirectoryError(str(exc)) from None
    return user


def _names(entry: dict[str, Any], key: str) -> list[str]:
    """A list of names from an entry; a number or a mapping there is refused, not a traceback."""
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise services.DirectoryError(f"{key} must be a list of names (one a line, with -)")
    return [str(v) for v in value]


def _text(entry: dict[str, Any], key: str) -> str:
    """A field that holds text (a number reads as its digits); a list or mapping is refused."""
    value = entry.get(key)
    if value is None:
        return ""
    # str() of a list would be stored and shown in the public directory: "['Maya', 'Chen']".
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise services.DirectoryError(f"{key} must be text, not {value!r}")
    text = str(value)
    # The member's form drops these; a NUL fails the import on PostgreSQL, and the others
    # would be shown in the public directory. Line breaks and tabs are plain text.
    mark = invisible_mark(re.sub(r"[\t\n\r]", "", text))
    if mark:
        raise services.DirectoryError(
            f"{key} holds an invisible control or text-direction character ({mark})"
        )
    return text


def _flag(entry: dict[str, Any], key: str, default: bool) -> bool:
    """Read true or false; bool() would read the text "no" (quoted) as yes: a street shown."""
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise services.DirectoryError(f"{key} must be true or false, not {value!r}")
    return value


# The order an entry's errors are named in: the member's form's, then the importer's own.
_ORDER = (
    "full_name", "display_name", "professions", "specialties", "zip_code", "bio", "website",
    "phone", "practice_name", "street", "show_street", "accepting_clients", "contact_enabled",
    "published",
)  # fmt: skip


def _in_order(errors: dict[str, str]) -> dict[str, str]:
    """The errors by field, in the order the entry's fields are named."""
    rank = {key: n for n, key in enumerate(_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def _data(entry: dict[str, Any]) -> services.ProfileData:
    """The entry's profile fields; one DirectoryError names every bad one (shape or content)."""
    errors: dict[str, str] = {}

    def read(reader: Any, key: str, *default: bool) -> Any:
        try:
            return reader(entry, key, *default)
        except services.DirectoryError as exc:
            errors[key] = exc.message
            return None

    values = {
        "display_name": read(_text, "display_name"),
        "zip_code": read(_text, "zip_code"),
        "practice_name": read(_text, "practice_name"),
        "street": read(_text, "street"),
        "show_street": read(_flag, "show_street", False),
        "bio": read(_text, "bio"),
        "website": read(_text, "website"),
        "phone": read(_text, "phone"),
        "accepting_clients": read(_flag, "accepting_clients", True),
        "contact_enabled": read(_flag, "contact_enabled", True),
        "specialties": read(_names, "specialties"),
        "professions": read(_names, "professions"),
    }
    read(_flag, "published", False)  # set after the save; refused with the rest here
    if not errors:
        return services.ProfileData(**values)
    # The other fields are checked as the member's form checks them, to be named as well.
    given = {key: value for key, value in values.items() if value is not None}
    try:
        services.check(services.ProfileData(**{"display_name": "", "zip_code": "", **given}))
    except services.DirectoryError as exc:
        for key, message in exc.errors.items():
            errors.setdefault(key, message)
    raise services.DirectoryError.of_fields(_in_order(errors))


def _described(exc: services.DirectoryError) -> str:
    """An entry's problem as the report says it: each bad field named, when there are several."""
    if len(exc.errors) < 2:
        return exc.message
    parts = []
    for key, message in exc.errors.items():
        part = message if not key or message.startswith(key) else f"{key}: {message}"
        parts.append(part if part.endswith(".") else f"{part}.")
    return " ".join(parts)


def import_profiles(
    path: Path, *, actor: User | None, create_members: bool = False, only_new: bool = False
) -> ImportReport:
    """Create or update the profiles listed in a YAML file (each in its own savepoint)."""
    try:
        # A field written twice is refused: plain YAML would keep the last one unsaid.
        entries = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise services.DirectoryError(f"{path.name} is not valid YAML: {exc}") from exc
    except ValueError as exc:
        # YAML read a value Python cannot build: a date like 2027-02-30, or an integer past
        # Python's 4,300-digit conversion limit (whose message points at sys internals).
        why = "a number is too long" if "integer string" in str(exc) else str(exc)
        raise services.DirectoryError(f"{path.name} is not valid YAML: {why}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise services.DirectoryError(
            f"{path.name} must hold a list of profiles, each with an email and its fields."
        )
    report = ImportReport()
    for entry in entries:
        email = str(entry.get("email", "?"))
        try:
            with db.session.begin_nested():
                unknown = sorted(map(str, set(entry) - _FIELDS))
                if unknown:
                    raise services.DirectoryError(f"unknown field(s) {', '.join(unknown)}")
                user = _member(entry, create_members, actor)
                if user is None:
                    raise services.DirectoryError(f"No member has the email {email}.")
                existing = services.profile_of(user.id)
                if existing is not None and only_new:
                    continue
                # Logged as the importer's change: the member did not make it.
                actions.save_profile(user, _data(entry), actor=actor, imported=True)
                if _flag(entry, "published", False):
                    actions.publish_profile(user, imported=True, actor=actor)
        except services.DirectoryError as exc:
            report.failed.append((email, _described(exc)))
            continue
        (report.updated if existing is not None else report.created).append(email)
    return report
