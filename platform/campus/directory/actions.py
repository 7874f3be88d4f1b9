"""Directory actions: the one write path for every change a person makes, each audited.

Members save, publish and hide their own profile; clients send messages; moderators hide and
unhide. Each action flushes and writes its audit entry in the same transaction; the view or
command commits.
"""

from __future__ import annotations

from typing import Any

from campus.accounts.models import User
from campus.audit import changed_fields, object_label, record, snapshot
from campus.directory import contact, photos, services
from campus.directory.models import ContactMessage, DirectoryProfile
from campus.extensions import db
from campus.mail.services import queue_email
from campus.models.writes import lock_row
from campus.storage import delete_after_commit, delete_on_rollback
from campus.urls import public_url


def _state(profile: DirectoryProfile) -> dict[str, Any]:
    data = snapshot(profile)
    # Counters move with every search: they are not changes anyone made.
    data.pop("impressions", None)
    data.pop("messages_received", None)
    data["specialties"] = profile.specialty_keys
    data["professions"] = profile.profession_keys
    return data


def save_profile(
    user: User,
    data: services.ProfileData,
    *,
    photo: bytes | None = None,
    remove_photo: bool = False,
    actor: User | None = None,
    imported: bool = False,
) -> DirectoryProfile:
    """Create or update a member's profile (and its photo), and log the change.

    The change is the member's own unless `imported`: then `actor` made it (None: an
    operator's command), and the log must not name the member.
    """
    # One save per member at a time: a double click on the first save had both find no profile
    # and both insert one; the second waits here, then finds the first's and updates it.
    lock_row(User, user.id)
    existing = services.profile_of(user.id)
    before = _state(existing) if existing is not None else None
    picture = None
    if photo:  # checked before anything changes
        try:
            picture = photos.normalise(photo)
        except services.DirectoryError:
            # Refused with the fields' own errors: a member fixes the whole form in one go.
            raise services.DirectoryError.of_fields(
                problems_of(data, photo, published=services.is_published(existing))
            ) from None
    profile = services.save(user, data)
    old_photo = profile.photo_key
    if picture is not None:
        profile.photo_key = photos.store(profile.id, picture)
        # Stored before the commit: if the change never commits, no profile names it.
        delete_on_rollback([profile.photo_key])
    elif remove_photo:
        profile.photo_key = None
    if old_photo and old_photo != profile.photo_key:
        # Served to nobody once replaced or removed, and found by no deletion after: it goes.
        delete_after_commit([old_photo])
    after = _state(profile)
    if before == after:  # the same form or import file again: nothing changed, nothing to log
        return profile
    fields = changed_fields(before, after) if before is not None else []
    summary = object_label(profile) + (f": {', '.join(fields)}" if fields else "")
    record(
        "directory_save" if before else "directory_create",
        profile,
        summary=_by_command(summary, imported, actor),
        before=before,
        after=after,
        actor=actor if imported else actor or user,
    )
    return profile


def problems_of(
    data: services.ProfileData, photo: bytes | None = None, *, published: bool = False
) -> dict[str, str]:
    """Every bad field of a profile form (and its photo), by field name; empty when all is well."""
    try:
        services.check(data, published=published)
        errors: dict[str, str] = {}
    except services.DirectoryError as exc:
        errors = exc.errors
    if photo:
        try:
            photos.normalise(photo)
        except services.DirectoryError as exc:
            errors.setdefault(exc.field or "photo", exc.message)
    return errors


def _by_command(summary: str, imported: bool, actor: User | None) -> str:
    """An import no admin ran is an operator's command: its entry says so."""
    return f"cli: {summary}" if imported and actor is None else summary


def publish_profile(
    user: User, *, imported: bool = False, actor: User | None = None
) -> DirectoryProfile:
    """List the member's profile in the directory, and log it (as `actor` when `imported`)."""
    profile = _own(user)
    before = _state(profile)
    services.publish(profile)
    if _state(profile) == before:  # listed already (a second click, an import run again)
        return profile
    record(
        "directory_publish",
        profile,
        summary=_by_command(f"{profile.slug}: published", imported, actor),
        actor=actor if imported else user,
    )
    return profile


def unpublish_profile(user: User) -> DirectoryProfile:
    """Take the member's profile off the directory, and log it."""
    profile = _own(user)
    before = _state(profile)
    services.unpublish(profile)
    if _state(profile) == before:  # not listed (a second click, a profile never published)
        return profile
    record("directory_unpublish", profile, summary=f"{profile.slug}: hidden by owner", actor=user)
    return profile


def _own(user: User) -> DirectoryProfile:
    profile = services.profile_of(user.id)
    if profile is None:
        raise services.DirectoryError("Save your profile first.", 404)
    # `listed` is worked out from what the owner's change read: a moderator hiding or unhiding
    # at the same moment must be seen, or the search would list a hidden or unpublished profile.
    _lock(profile)
    return profile


def send_message(
    profile: DirectoryProfile, name: str, email: str, body: str, honeypot: str, stamp: str
) -> ContactMessage:
    """Take a client's message for a practitioner (spam-checked), and log that one came."""
    contact.check_stamp(stamp, profile.id)
    name, email, body = contact.check_message(name, email, body, honeypot)
    earlier = contact.sent_already(profile, name, email, body)
    if earlier is not None:
        return earlier  # sent twice: kept, counted, relayed and logged the first time only
    message = contact.store_message(profile, name, email, body)
    # The log says a message came; who sent it and what it said stay with the message.
    record(
        "directory_message",
        object_type="ContactMessage",
        object_id=message.id,
        summary=f"{profile.slug}: message received",
        system=True,  # not the signed-in sender either: the message is deleted in time, this stays
    )
    return message


def _lock(profile: DirectoryProfile) -> None:
    """Read the profile again under a row lock held to the commit.

    Two moderators (or a double click) acting at once would each find it shown, hide it, log
    it and email the practitioner twice; locked, the second waits and finds it hidden.
    """
    lock_row(DirectoryProfile, profile.id)
    db.session.refresh(profile)


def hide_profile(profile: DirectoryProfile, reason: str, *, actor: User | None) -> None:
    """Hide a profile as a moderator, email the practitioner the reason, and log it."""
    _lock(profile)
    before = _state(profile)
    services.moderate(profile, reason)
    record(
        "directory_hide",
        profile,
        summary=f"{profile.slug}: hidden ({profile.hidden_reason})",
        before=before,
        after=_state(profile),
        actor=actor,
    )
    assert profile.hidden_at is not None
    queue_email(
        profile.user.email,
        "Your directory profile has been hidden",
        "directory_hidden",
        dedupe_key=f"directory:hidden:{profile.id}:{profile.hidden_at.isoformat()}",
        profile=profile,
        reason=profile.hidden_reason,
        edit_url=public_url("directory.edit"),
    )


def unhide_profile(profile: DirectoryProfile, *, actor: User | None) -> None:
    """Lift a moderator's hiding, and log it."""
    _lock(profile)
    before = _state(profile)
    services.unmoderate(profile)
    record(
        "directory_unhide",
        profile,
        summary=f"{profile.slug}: unhidden",
        before=before,
        after=_state(profile),
        actor=actor,
    )
