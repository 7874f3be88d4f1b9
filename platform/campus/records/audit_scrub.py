"""Taking a deleted member out of the audit log: their address, their names and what their
directory profile published. The entries themselves stay; an auditor still sees that something
was done, and when."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from campus.audit import AuditEntry
from campus.certificates.models import Certificate
from campus.extensions import db
from campus.integers import id_from

# The ended session's address, last in a `session_ended` entry's text (no comma or space in it).
_SESSION_ADDRESS = re.compile(r", [^,\s]+\Z")


def scrub_member(user_id: int, email: str, label: str, since: datetime | None = None) -> None:
    """Replace the address in the audit log's text with a label; the entries themselves stay.

    `since` is when the account was made: before it the address was another account's or no
    one's, and what others' entries of that time say about it is not this member's to rewrite.
    """
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.actor_id == user_id)
        # The network address they acted from goes as their sessions' does.
        .values(actor_email=label, ip_address=None)
        .execution_options(synchronize_session=False)
    )
    # Only their own entries and those about their account: another member's address may
    # contain this one ("ann@x.com" in "joann@x.com").
    theirs = or_(
        AuditEntry.actor_id == user_id,
        and_(AuditEntry.object_type == "User", AuditEntry.object_id == str(user_id)),
    )
    db.session.execute(
        update(AuditEntry)
        .where(theirs, AuditEntry.summary.contains(email, autoescape=True))
        .values(summary=func.replace(AuditEntry.summary, email, label))
        .execution_options(synchronize_session=False)
    )
    # Ending another of their sessions named that device's address at the end of the entry's
    # text ("..., 198.51.100.23"): it goes as the session's own record of it did.
    for entry in db.session.scalars(
        select(AuditEntry)
        .where(theirs, AuditEntry.action == "session_ended")
        .execution_options(populate_existing=True)
    ):
        entry.summary = _SESSION_ADDRESS.sub(", address removed", entry.summary)
    # Others' entries name them too (an assessor's review of their practical, an unsubscribe by
    # signed link): there only the address standing whole goes, not the end of a longer one.
    whole = re.compile(rf"(?<![\w.!#$%&'*+/=?^`{{|}}~-]){re.escape(email)}(?![\w-]|\.[\w-])")
    for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.summary.contains(email, autoescape=True))
    ):
        about_them = entry.object_type == "User" and entry.object_id == str(user_id)
        if entry.actor_id != user_id and not about_them and _may_name(entry, user_id, since):
            entry.summary = whole.sub(label, entry.summary)
    # The before and after of their entries (a profile or account change holds the address,
    # and the names they went by) are JSON, which no portable UPDATE edits: read the member's
    # own entries and rewrite them. A name the records keep stays in the retention hold.
    for entry in db.session.scalars(select(AuditEntry).where(theirs)):
        for name in ("before", "after"):
            value = getattr(entry, name)
            if value is None:
                continue
            scrubbed = _replaced(value, email, label)
            if scrubbed != value:
                setattr(entry, name, scrubbed)
    _scrub_leads(email, label)


def _may_name(entry: AuditEntry, user_id: int, since: datetime | None) -> bool:
    """Tell whether another's entry naming the address can be naming this member.

    An address is given up and taken again: someone signing up with the address another member
    left, then deleting the account, must not rewrite what the log says about that member (a
    role change, a comp grant, a sign-in). Entries about another account never name this one;
    nor do those from before this account existed, but for the address's own list entries
    (leads), which the deletion forgets whenever they were made.
    """
    if entry.object_type == "User" and entry.object_id not in (None, str(user_id)):
        return False
    if since is None or entry.object_type == "Lead":
        return True
    return entry.created_at >= since


def _scrub_leads(email: str, label: str) -> None:
    """Empty the address and name of the address's download leads in the entries about them.

    The leads leave with the account (their consent too); an admin's entry deleting one kept
    them in its before. The entry stays, as the admin's.
    """
    for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Lead")):
        for name in ("before", "after"):
            value = getattr(entry, name)
            if isinstance(value, dict) and str(value.get("email") or "").casefold() == (
                email.casefold()
            ):
                setattr(entry, name, {**value, "email": label, "name": label})


def scrub_profiles(
    profiles: tuple[tuple[int, str], ...], label: str, since: datetime | None = None
) -> None:
    """Empty the before and after of every entry about a removed directory profile.

    They hold what the practitioner published (street, phone, bio, photo), which leaves with
    the account; a moderator's entries are among them. The summaries stay, each slug the
    profile had (made of their name and town) replaced by the label, in the entries of the
    messages it received too.
    """
    for profile_id, slug in profiles:
        about = and_(
            AuditEntry.object_type == "DirectoryProfile", AuditEntry.object_id == str(profile_id)
        )
        entries = db.session.scalars(select(AuditEntry).where(about)).all()
        # Every slug it had: a new display name gives the profile a new one.
        slugs = {slug} | {
            state["slug"]
            for entry in entries
            for state in (entry.before, entry.after)
            if isinstance(state, dict) and isinstance(state.get("slug"), str) and state["slug"]
        }
        for entry in entries:
            entry.before = entry.after = None
        for old in slugs:
            # Standing whole: another profile's slug may begin with it ("robin-reyes-portland-2").
            token = re.compile(rf"(?<![\w-]){re.escape(old)}(?![\w-])")
            for entry in entries:
                entry.summary = token.sub(label, entry.summary)
            # Each message the profile received was logged by its slug ("<slug>: message
            # received"); the messages may be gone already, so the entries are found by it.
            for entry in db.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_type == "ContactMessage",
                    AuditEntry.summary.contains(old, autoescape=True),
                )
            ):
                if _received_by(entry, {profile_id for profile_id, _slug in profiles}, since):
                    entry.summary = token.sub(label, entry.summary)


def _received_by(entry: AuditEntry, profile_ids: set[int], since: datetime | None) -> bool:
    """Tell whether a message's entry can be about a message to one of these profiles.

    A slug is given up and taken again: another practitioner's messages under the slug this
    profile took after them are theirs, and stay as logged. The message, while kept, says whose
    it is; one deleted since was this profile's only if it came after the account was made.
    """
    from campus.directory.models import ContactMessage

    message_id = id_from(entry.object_id or "")
    owner = db.session.scalar(
        select(ContactMessage.profile_id).where(ContactMessage.id == message_id)
    )
    if owner is not None:
        return owner in profile_ids
    return since is None or entry.created_at >= since


def scrub_licenses(user_id: int, licenses: tuple[tuple[int, str], ...], label: str) -> None:
    """Take a deleted member's license numbers out of the entries about their licenses.

    A license number identifies the licensee at their board as surely as a name: the entries
    about the license (the member's, or an admin's) lose it from their before, after and
    summary, and so do the member's own entries that name it. The retention hold keeps the
    number the kept certificates printed.
    """
    for license_id, number in licenses:
        token = re.compile(rf"(?<![\w-]){re.escape(number)}(?![\w-])")
        about = and_(AuditEntry.object_type == "License", AuditEntry.object_id == str(license_id))
        for entry in db.session.scalars(
            select(AuditEntry).where(or_(about, AuditEntry.actor_id == user_id))
        ):
            entry.summary = token.sub(label, entry.summary)
            if entry.object_type == "License":
                for name in ("before", "after"):
                    value = getattr(entry, name)
                    # Only while it was theirs: SQLite may have given a removed license's id
                    # to another member's license since.
                    if _theirs(value, user_id) and value.get("number"):
                        setattr(entry, name, {**value, "number": label})


def earlier_licenses(user_id: int) -> tuple[tuple[int, str], ...]:
    """The licenses (id, number) a member's own entries recorded, those removed since too.

    A license removed before the account was deleted is gone from the table, but its number
    is still in the entries of its adding, editing and removal.
    """
    found = set()
    for entry in db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "License", AuditEntry.actor_id == user_id
        )
    ):
        if not (entry.object_id or "").isdigit():
            continue
        for value in (entry.before, entry.after):
            number = value.get("number") if _theirs(value, user_id) and value else None
            if isinstance(number, str) and number:
                found.add((int(entry.object_id or 0), number))
    return tuple(sorted(found))


def _theirs(value: Any, user_id: int) -> bool:
    """Tell whether a license's recorded state is of this member's license."""
    return isinstance(value, dict) and value.get("user_id") == user_id


def scrub_reports(
    reports: tuple[tuple[int, Any, Any], ...], names: tuple[str, ...], label: str
) -> None:
    """Take what purged reports told the boards (name, license) out of the entries about them.

    The reports go with the member's other records at the end of the retention; the entries
    about them (a resend, a withdrawal, a correction) stay, without the person: what each
    report was sent is replaced by the label, and the names and numbers in their text too.
    `reports` are (id, what it was sent, what it was sent under license numbers since
    corrected); `names` the hold's name and license number.
    """
    found = {name for name in names if name}
    sents = [last for _id, last, _held in reports]
    sents += [h.get("sent") for _id, _last, held in reports for h in held or [] if h]
    for sent in sents:
        if isinstance(sent, dict):
            found |= {str(sent.get(key) or "") for key in ("first_name", "last_name")}
            found.add(str(sent.get("license_number") or ""))
    # Longest first: "Rosa Delgado" goes whole before "Rosa" would leave "Delgado" behind.
    tokens = sorted((token for token in found if len(token.strip()) > 1), key=len, reverse=True)
    patterns = [re.compile(rf"(?<![\w-]){re.escape(token)}(?![\w-])") for token in tokens]

    def cleaned(value: Any) -> Any:
        if isinstance(value, str):
            for pattern in patterns:
                value = pattern.sub(label, value)
            return value
        if isinstance(value, list):
            return [cleaned(item) for item in value]
        if isinstance(value, dict):
            return {
                key: label if key == "sent" and item else cleaned(item)
                for key, item in value.items()
            }
        return value

    ids = [str(report_id) for report_id, _sent, _held in reports]
    if not ids:
        return
    for entry in db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "ReportedCompletion", AuditEntry.object_id.in_(ids)
        )
    ):
        entry.summary = cleaned(entry.summary)
        entry.before = cleaned(entry.before)
        entry.after = cleaned(entry.after)


# What a certificate printed that names its holder: a reissue's entry keeps it while it changed.
_PRINTED_PERSON = ("participant_name", "license_number")


def scrub_certificates(user_id: int, label: str) -> None:
    """Take the name and license number a member's certificates printed out of their entries.

    A reissue's entry keeps the printed fields it changed, before and after, for an auditor
    while the records are kept; at the purge the values that name the person go, and the
    fact of the change (which fields) stays.
    """
    ids = [
        str(i)
        for i in db.session.scalars(select(Certificate.id).where(Certificate.user_id == user_id))
    ]
    if not ids:
        return
    for entry in db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "Certificate", AuditEntry.object_id.in_(ids)
        )
    ):
        for name in ("before", "after"):
            value = getattr(entry, name)
            printed = value.get("printed") if isinstance(value, dict) else None
            if isinstance(printed, dict):
                kept = {
                    key: label if key in _PRINTED_PERSON and item else item
                    for key, item in printed.items()
                }
                setattr(entry, name, {**value, "printed": kept})


# Snapshot fields that name a member (an account's own columns, and an assessor's name in the
# verdicts they gave): scrubbed with the address. The verdict itself keeps the assessor's name
# for as long as the candidate's records are kept; the log, kept for good, does not.
_NAMING_FIELDS = ("full_name", "reviewer_name")


def _replaced(value: Any, old: str, new: str) -> Any:
    """A JSON value with every string's `old` replaced by `new`, and names replaced by `new`."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replaced(item, old, new) for item in value]
    if isinstance(value, dict):
        return {
            key: new if key in _NAMING_FIELDS and item else _replaced(item, old, new)
            for key, item in value.items()
        }
    return value
