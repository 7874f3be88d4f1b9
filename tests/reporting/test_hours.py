"""CE Broker is told the hours the certificate and the transcript show: those earned."""

from __future__ import annotations

from decimal import Decimal

from tests.certificates.helpers import (
    certificate_of,
    complete_without_evaluating,
    edit_course,
    student,
)
from tests.learning.helpers import evaluate
from tests.reporting.helpers import configure, course_with_number, report_of


def test_cebroker_is_sent_the_hours_earned_after_the_course_hours_were_edited(
    app, fake_cebroker, monkeypatch
):
    from campus.reporting.cebroker import CEBrokerAdapter

    sent = []
    real_submit = CEBrokerAdapter.submit

    def spy(self, completion):
        sent.append(completion)
        return real_submit(self, completion)

    monkeypatch.setattr(CEBrokerAdapter, "submit", spy)
    configure(app, fake_cebroker)
    with app.app_context():
        course = course_with_number("fl-hours-edited")
        user = student(license_number="MA12345", license_state="FL")
        complete_without_evaluating(user.id, course)
        edit_course(course.id, ce_hours=Decimal("0.25"))
        evaluate(user.id, course)  # issues the certificate, which queues and sends the report
        cert = certificate_of(user.id)
        assert report_of(cert.id).status == "accepted"
        [completion] = sent
        assert completion.ce_hours == cert.ce_hours == Decimal("2.00")
        assert Decimal(cert.data["ce_hours"]) == completion.ce_hours
