"""Every change to licenses and renewal rules, each with its audit entry (flush, never commit)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campus.accounts.models import PROFESSIONS, User
from campus.accounts.rules import RuleError, plain_text, says_something
from campus.audit import record, snapshot
from campus.extensions import db
from campus.learning.models import Enrollment
from campus.licenses.formats import foreign_characters, normalize_number, number_format
from campus.licenses.jurisdictions import JURISDICTIONS, jurisdiction_name
from campus.licenses.models import License, RenewalRule
from campus.licenses.rules import RuleFileError, check_rule
from campus.licenses.services import get_license
from campus.models.writes import lock_row

# Expiry dates further out than this are typing mistakes, not licenses.
_LAST_YEAR = 2100


class LicenseError(Exception):
    """A refused license change, with the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _checked(
    profession: str, jurisdiction: str, number: str, expires_on: date | None
) -> dict[str, object]:
    """Check and clean a license's fields; raise LicenseError naming the first bad one."""
    if profession not in PROFESSIONS:
        raise LicenseError("Choose a profession from the list.", "profession")
    code = (jurisdiction or "").strip().upper()
    if code not in JURISDICTIONS:
        raise LicenseError("Choose the state or national credential from the list.", "jurisdiction")
    try:
        typed = plain_text(number, "The license number")
    except RuleError as exc:
        raise LicenseError(str(exc), "number") from None
    cleaned = normalize_number(typed)
    # Every board's number holds a letter or a digit: a lone accent or dash prints as nothing
    # useful where no format for the jurisdiction is known to catch it.
    if not says_something(cleaned):
        raise LicenseError("Enter the license number as printed on your license.", "number")
    if foreign_characters(cleaned):
        # No board prints them, and CE Broker matches the number against the board's record;
        # "LMT-9" typed in fullwidth letters was also kept beside the same number typed plainly.
        raise LicenseError(
            "Type the license number with the letters A-Z and the digits 0-9, as printed on "
            "your license.",
            "number",
        )
    if len(cleaned) > 60:
        raise LicenseError("That license number is too long.", "number")
    fmt = number_format(code, profession)
    if fmt is not None and not fmt.pattern.fullmatch(cleaned):
        raise LicenseError(
            f"A {jurisdiction_name(code)} {PROFESSIONS[profession].lower()} license number "
            f"looks like {fmt.example} ({fmt.description}). Check the number on your license.",
            "number",
        )
    if expires_on is not None and not 1950 <= expires_on.year <= _LAST_YEAR:
        raise LicenseError("Enter the expiry date printed on your license.", "expires_on")
    return {
        "profession": profession,
        "jurisdiction": code,
        "number": cleaned,
        "expires_on": expires_on,
    }


def add_license(
    user: User, *, profession: str, jurisdiction: str, number: str, expires_on: date | None
) -> License:
    """Record a license the member holds."""
    fields = _checked(profession, jurisdiction, number, expires_on)
    _refuse_copy(user, fields)
    license = License(user_id=user.id, **fields)
    db.session.add(license)
    db.session.flush()
    record("license_added", license, summary=f"{license.title} added", after=snapshot(license))
    return license


def update_license(
    user: User,
    license_id: int,
    *,
    profession: str,
    jurisdiction: str,
    number: str,
    expires_on: date | None,
) -> License:
    """Change one of the member's licenses (certificates already issued keep what they print)."""
    license = _own(user, license_id)
    fields = _checked(profession, jurisdiction, number, expires_on)
    _refuse_copy(user, fields, license.id)
    before = snapshot(license)
    for key, value in fields.items():
        setattr(license, key, value)
    db.session.flush()
    record("license_updated", license, before=before, after=snapshot(license))
    return license


def remove_license(user: User, license_id: int) -> None:
    """Remove one of the member's licenses; certificates keep the number printed on them."""
    license = _own(user, license_id)
    before = snapshot(license)
    title = license.title
    db.session.delete(license)
    db.session.flush()
    record(
        "license_removed",
        object_type="License",
        object_id=license_id,
        summary=f"{title} removed",
        before=before,
    )


def set_reminders(user: User, license_id: int, enabled: bool, *, by_link: bool = False) -> License:
    """Switch renewal reminder emails for one license on or off.

    `by_link`: the reminder email's signed stop link did it, which anyone holding the link (a
    mail provider's one-click POST among them) may use: the entry then names no actor.
    """
    license = _own(user, license_id)
    if license.reminders != enabled:
        before = snapshot(license)
        license.reminders = enabled
        db.session.flush()
        state = "on" if enabled else "off"
        record(
            "license_reminders",
            license,
            summary=f"{license.title}: renewal reminders {state}"
            + (" (the reminder email's signed link)" if by_link else ""),
            before=before,
            after=snapshot(license),
            actor=None if by_link else user,
            system=by_link,
        )
    return license


def choose_for_certificate(user: User, enrollment: Enrollment, license: License) -> None:
    """Name the license a course's certificate is for (the learner's pick before issue)."""
    if enrollment.user_id != user.id or license.user_id != user.id:
        raise LicenseError("That license is not on your account.")
    if enrollment.license_id == license.id:
        return
    enrollment.license_id = license.id
    db.session.flush()
    record(
        "license_chosen",
        enrollment,
        summary=f"certificate of enrollment {enrollment.id} names {license.title} {license.number}",
        actor=user,
    )


def save_rule(
    rule: RenewalRule, values: dict, *, actor: User | None, before: dict | None = None
) -> RenewalRule:
    """Check and store an admin's edit of a renewal rule (or a new one), with its audit entry.

    `before` is the rule as it was when a form has already written into the object.
    """
    try:
        spec = check_rule(values, "renewal rule")
    except RuleFileError as exc:
        raise LicenseError(str(exc).removeprefix("renewal rule").lstrip(": ")) from None
    jurisdiction, profession = spec.key
    # Not flushed first: the form has already written its values into the rule, and a second
    # rule for the pair would fail the unique constraint with the database's own message.
    with db.session.no_autoflush:
        taken = db.session.scalar(
            select(RenewalRule.id).where(
                RenewalRule.jurisdiction == jurisdiction,
                RenewalRule.profession == profession,
                RenewalRule.id != (rule.id or 0),
            )
        )
    taken_message = (
        f"{jurisdiction_name(jurisdiction)} already has a rule for "
        f"{PROFESSIONS[profession]}: edit that one instead."
    )
    if taken is not None:
        raise LicenseError(taken_message)
    if before is None and rule.id is not None:
        before = snapshot(rule)
    created = rule.id is None
    for key, value in spec.values.items():
        setattr(rule, key, value)
    db.session.add(rule)
    try:
        # Another admin's rule for the pair may have been saved since the check above: the
        # unique constraint then refuses this one, and the admin gets the same message.
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise LicenseError(taken_message) from None
    record(
        "renewal_rule_created" if created else "renewal_rule_updated",
        rule,
        before=None if created else before,
        after=snapshot(rule),
        actor=actor,
    )
    return rule


def _refuse_copy(user: User, fields: dict, license_id: int | None = None) -> None:
    """Refuse a license the member already has on file (another row than license_id)."""
    # The member's row, locked to the commit: a double click's second request waits, then finds
    # the license the first added, rather than adding it (and its reminders) twice.
    lock_row(User, user.id)
    same = db.session.scalar(
        select(License.id).where(
            License.user_id == user.id,
            License.profession == fields["profession"],
            License.jurisdiction == fields["jurisdiction"],
            License.number == fields["number"],
            License.id != (license_id or 0),
        )
    )
    if same is not None:
        raise LicenseError("That license is already on your account.", "number")


def _own(user: User, license_id: int) -> License:
    license = get_license(user.id, license_id)
    if license is None:
        raise LicenseError("That license is not on your account.")
    return license
