"""The instructor who taught a course signs its certificate beside the provider's administrator."""

from __future__ import annotations

import pytest

from campus.certificates import pdf
from tests.certificates.helpers import certificate_of, complete_course, edit_course, student
from tests.certificates.test_documents import certificate_data, text_boxes
from tests.learning.helpers import make_course

FRAME = (31, 792 - 31)


def _texts(body: bytes) -> str:
    return "\n".join(b["text"] for b in text_boxes(body))


def test_a_certificate_freezes_the_course_instructors_at_completion(app):
    with app.app_context():
        course = make_course("taught-by")
        user = student()
        complete_course(user.id, course)
        edit_course(course.id, presenters="Someone Later, PT")
        data = certificate_of(user.id).data
    assert data["instructors"] == ["Ann Presenter, LMT"]


def test_the_pdf_prints_the_instructor_signature_line_beside_the_administrators():
    data = certificate_data(instructors=["Jordan Lee, LMT, NCTMB"])
    boxes = text_boxes(pdf.render_certificate(data))
    name = next(b for b in boxes if b["text"] == "Jordan Lee, LMT, NCTMB")
    admin = next(b for b in boxes if b["text"] == "Dana Whitfield, LMT, MEd")
    assert "Course instructor" in _texts(pdf.render_certificate(data))
    assert name["y"] == admin["y"] and name["left"] > admin["right"]
    for box in boxes:
        assert FRAME[0] <= box["left"] and box["right"] <= FRAME[1], box


@pytest.mark.parametrize(
    "names",
    [
        ["Maren Okafor, LMT, BCTMB", "Dr. Luis Ferreira, PT, DPT"],
        ["Dr. Alexandra Konstantinopoulou-Whitmore, PT, DPT, OCS, FAAOMPT, CSCS, LMT"],
    ],
)
def test_two_or_long_instructor_names_stay_whole_and_clear_of_the_code(names):
    boxes = text_boxes(pdf.render_certificate(certificate_data(instructors=names)))
    drawn = "".join(b["text"] for b in boxes)
    assert all("".join(n.split()) in "".join(drawn.split()) for n in names)
    for box in boxes:
        assert FRAME[0] <= box["left"] and box["right"] <= FRAME[1], box
    # The signature lines' text ends before the certificate code and URL (right-aligned) start.
    bottom = [b for b in boxes if b["y"] < 130]
    right = [b for b in bottom if b["right"] > 640]
    left = [b for b in bottom if b not in right]
    assert max(b["right"] for b in left) + 10 < min(b["left"] for b in right)


def test_a_certificate_frozen_without_instructors_prints_as_before():
    text = _texts(pdf.render_certificate(certificate_data()))
    assert "instructor" not in text.lower()
    assert "instructor" not in _texts(pdf.render_certificate(certificate_data(instructors=[])))


def test_a_reissue_keeps_the_instructors_printed_and_adds_none_to_an_old_certificate(app):
    from campus.certificates import actions
    from campus.extensions import db

    with app.app_context():
        course = make_course("taught-then")
        first, second = student(), student()
        complete_course(first.id, course)
        complete_course(second.id, course)
        old = certificate_of(second.id)
        old.data = {k: v for k, v in old.data.items() if k != "instructors"}  # issued before
        db.session.commit()
        edit_course(course.id, presenters="Someone Later, PT")
        for user in (first, second):
            actions.reissue(certificate_of(user.id).code, "Name corrected", actor=None)
        db.session.commit()
        assert certificate_of(first.id).data["instructors"] == ["Ann Presenter, LMT"]
        assert "instructors" not in certificate_of(second.id).data


def test_verify_page_and_credential_name_the_instructor(app, client):
    from tests.certificates.helpers import code_of, completed_student

    s = completed_student(app)
    code = code_of(app, s.user_id)
    html = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Instructor" in html and "Ann Presenter, LMT" in html
    credential = client.get(f"/verify/{code}.json").get_json()["credential"]
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["creator"]["name"] == "Ann Presenter, LMT"


def test_the_credentials_instructor_link_lands_on_the_course_pages_instructors(app, client):
    from tests.certificates.helpers import code_of, completed_student

    s = completed_student(app)
    credential = client.get(f"/verify/{code_of(app, s.user_id)}.json").get_json()["credential"]
    link = credential["credentialSubject"]["achievement"]["creator"]["id"]
    path, fragment = link.removeprefix(app.config["PUBLIC_BASE_URL"]).split("#")
    html = client.get(path).get_data(as_text=True)
    section = html.split(f'id="{fragment}"', 1)[1].split("</section>", 1)[0]
    assert "<h2>Instructor</h2>" in section and "Ann Presenter, LMT" in section
