"""A member with a full record: a completed course with its certificate, time logs and a lead."""

from __future__ import annotations

from types import SimpleNamespace

from tests import support
from tests.certificates.helpers import certificate_of, complete_course
from tests.learning.helpers import make_course, record_seat_time


def full_member(app, slug: str = "hip-basics", **fields) -> SimpleNamespace:
    """A paying member who completed a course (certificate issued) and asked for a download."""
    from campus.content.models import Download, Lead
    from campus.extensions import db

    with app.app_context():
        course = make_course(slug, title=fields.pop("title", None))
        fields.setdefault("license_number", "MT-004512")
        fields.setdefault("license_state", "Maine")
        fields.setdefault("full_name", "Casey Moreno")
        user = support.create_user(**fields)
        support.make_member(user.id, "active")
        enrollment_id = complete_course(user.id, course)
        record_seat_time(enrollment_id, course.lesson_ids[0], 1800)
        download = Download(slug=f"guide-{slug}", title="Trigger point guide", filename="g.pdf")
        db.session.add(download)
        db.session.flush()
        db.session.add(
            Lead(
                download_id=download.id,
                email=user.email,
                name="Casey",
                consent_text="Send me the newsletter",
                marketing=True,
            )
        )
        db.session.commit()
        certificate = certificate_of(user.id)
        assert certificate is not None and certificate.status == "issued"
        return SimpleNamespace(
            user_id=user.id,
            email=user.email,
            course=course,
            enrollment_id=enrollment_id,
            code=certificate.code,
            storage_key=certificate.storage_key,
        )
