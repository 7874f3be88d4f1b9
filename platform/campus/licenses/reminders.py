"""Renewal reminder emails: at 90, 30 and 7 days before expiry while hours are still due.

Each (license, cycle, threshold) is sent at most once: a renewal_reminders row is inserted with
ON CONFLICT DO NOTHING and the email is queued only by the run that inserted it, in the same
transaction, so the beat task can run twice (or on two workers) and one email goes out.
When a run was missed, only the nearest threshold reached is sent, not every one passed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from campus import dates
from campus.extensions import db
from campus.licenses.models import License, RenewalReminder
from campus.licenses.tracker import track
from campus.mail.services import queue_email
from campus.models.writes import insert_if_absent
from campus.templating import counted
from campus.urls import public_url

THRESHOLDS = (90, 30, 7)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="campus.licenses.reminders")


def _stamp(license: License) -> str:
    return f"{license.created_at:%Y%m%dT%H%M%S%f}"


def stop_token(license: License) -> str:
    """Sign a license for the reminder email's one-click "stop these reminders" link.

    Its moment as well as its id: a removed license's id may be handed out again (SQLite reuses
    the highest ids), and the old link must not switch off another member's reminders.
    """
    return _serializer().dumps([license.id, _stamp(license)])


def license_for_stop_token(token: str) -> License | None:
    """Return the license a genuine stop link was made for, if it is still on file, else None."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2):
        return None
    license_id, stamp = value
    if not isinstance(license_id, int) or isinstance(license_id, bool):
        return None
    license = db.session.get(License, license_id)
    return license if license is not None and _stamp(license) == stamp else None


def threshold_for(days_left: int) -> int | None:
    """The nearest reminder threshold a license has reached (7 before 30 before 90), if any."""
    reached = [t for t in THRESHOLDS if 0 <= days_left <= t]
    return min(reached) if reached else None


def candidate_ids(today: date) -> list[int]:
    """Licenses with reminders on that expire within the widest threshold."""
    return list(
        db.session.scalars(
            select(License.id)
            .where(
                License.reminders.is_(True),
                License.expires_on >= today,
                License.expires_on <= today + timedelta(days=max(THRESHOLDS)),
            )
            .order_by(License.id)
        )
    )


def send_reminder(license_id: int, today: date | None = None) -> bool:
    """Queue the reminder a license is due today, once; return whether one was queued."""
    today = today or dates.today()
    license = db.session.get(License, license_id)
    if license is None or not license.reminders or license.expires_on is None:
        return False
    if not license.user.is_active:
        return False
    threshold = threshold_for((license.expires_on - today).days)
    if threshold is None:
        return False
    tracker = track(license, today)
    if tracker.status != "due":
        return False  # nothing missing (or no rule, voluntary): no reminder
    inserted = insert_if_absent(
        RenewalReminder,
        {
            "license_id": license.id,
            "cycle_ends_on": license.expires_on,
            "days_before": threshold,
            "sent_at": datetime.now(UTC),
        },
        ["license_id", "cycle_ends_on", "days_before"],
    )
    if inserted is None:
        return False  # already sent for this cycle and threshold
    stop_url = public_url("licenses.stop", token=stop_token(license))
    message = queue_email(
        license.user.email,
        f"{license.title}: {counted(tracker.due, 'CE hour')} still due by "
        f"{license.expires_on:%B} {license.expires_on.day}",
        "licenses_renewal_reminder",
        # The license's moment as well as its id: a removed license's id may be handed out
        # again (SQLite reuses the highest ids), and its reminders' keys are still on file.
        dedupe_key=f"renewal-reminder:{license.id}:{license.created_at:%Y%m%dT%H%M%S%f}:"
        f"{license.expires_on.isoformat()}:{threshold}",
        user=license.user,
        tracker=tracker,
        days=threshold,
        dashboard_url=public_url("learning.dashboard"),
        licenses_url=public_url("licenses.index"),
        stop_url=stop_url,
        course_urls=[
            (course.title, public_url("learning.course", slug=course.slug))
            for course in tracker.suggestions
        ],
    )
    if message is not None:
        # RFC 8058 one-click: the mail client POSTs to the stop link (see views.stop).
        message.unsubscribe_url = stop_url
    return True
