"""A course whose board approvals have all lapsed says so, on its page and on the certificate."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from campus.models.base import utcnow
from tests.certificates.helpers import certificate_of, complete_course, student
from tests.learning.helpers import make_course


def _lapse_approvals(course_id: int) -> None:
    from campus.extensions import db
    from campus.learning.models import Course

    for approval in db.session.get(Course, course_id).approvals:
        approval.valid_until = utcnow().date() - timedelta(days=30)
    db.session.commit()


def test_a_course_with_only_lapsed_approvals_tells_the_learner_plainly(app, client):
    with app.app_context():
        course = make_course("lapsed-approval", ce_hours="2")
        _lapse_approvals(course.id)
        slug = course.slug
    html = client.get(f"/courses/{slug}").get_data(as_text=True)
    assert "No board approval is in force for this course" in html


def test_a_certificate_earned_with_no_approval_in_force_says_so(app):
    from campus.certificates import services

    with app.app_context():
        course = make_course("lapsed-cert", ce_hours="2")
        _lapse_approvals(course.id)
        user = student()
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        assert certificate.data["approvals"] == []
        body = services.render(certificate)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "No board approval was in force" in " ".join(text.split())
