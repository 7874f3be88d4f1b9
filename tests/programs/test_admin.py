"""Admins build programs, their exam bank, and revoke credentials in the admin."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from campus.accounts.models import User
from campus.extensions import db
from campus.programs.models import Credential, ExamQuestion, Program
from tests import support
from tests.admin import helpers
from tests.programs.helpers import make_course, make_credential, make_program


def _program_form(**changes) -> dict:
    form = {
        "title": "Certified Neck Specialist",
        "slug": "certified-neck-specialist",
        "description": "Neck work.",
        "accrediting_body": "",
        "profession_keys": ["massage_therapist", "chiropractor"],
        "license_required": "y",
        "elective_hours": "0",
        "validity_months": "24",
        "renewal_hours": "12",
        "weights_text": "Anatomy: 2\nTechnique: 1",
        "exam_question_count": "9",
        "exam_time_limit_minutes": "30",
        "exam_pass_mark": "70",
        "exam_attempts_allowed": "3",
        "exam_retake_wait_days": "2",
        "practical_techniques": "Compression",
        "rubric": "Safe",
        "published": "y",
    }
    form.update(changes)
    return form


def test_admin_builds_a_program_with_courses_weights_and_professions(app, client):
    helpers.sign_in_admin(app, client)
    with app.app_context():
        course_id = make_course("neck-one").id
    # A draft: a new program has no exam bank yet, and one that cannot fill its exam is no
    # program to publish.
    form = _program_form(
        published="", **{"courses-0-course": str(course_id), "courses-0-kind": "required"}
    )
    response = helpers.post(client, "/admin/programs/new/", form)
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        program = db.session.scalar(select(Program))
        assert program.exam_domain_weights == {"Anatomy": 2, "Technique": 1}
        assert program.professions == ["massage_therapist", "chiropractor"]
        assert [c.id for c in program.required_courses] == [course_id]


def test_bad_weights_are_refused_with_a_clear_message(app, client):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/programs/new/", _program_form(weights_text="Anatomy"))
    assert response.status_code == 200
    assert any("Domain: weight" in m for m in helpers.flashes(response))
    # int() refuses more than 4,300 digits: past 100, however long, is out of range.
    for weight in ("0", "101", "1" * 5000):
        form = _program_form(weights_text=f"Anatomy: {weight}")
        response = helpers.post(client, "/admin/programs/new/", form)
        assert response.status_code == 200
        assert any("between 1 and 100" in m for m in helpers.flashes(response)), weight
    # A domain typed twice kept only its last weight: the paper was not split as written.
    for twice in ("Anatomy: 2\nTechnique: 1\nAnatomy: 1", "Anatomy: 2\n Anatomy : 1"):
        response = helpers.post(client, "/admin/programs/new/", _program_form(weights_text=twice))
        assert response.status_code == 200
        assert any("Anatomy" in m and "twice" in m for m in helpers.flashes(response)), twice
    for blank in ("", "\n  \n"):
        response = helpers.post(client, "/admin/programs/new/", _program_form(weights_text=blank))
        assert response.status_code == 200
        assert any("at least one exam domain" in m for m in helpers.flashes(response)), blank
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


def test_admin_adds_a_question_with_one_right_answer(app, client):
    helpers.sign_in_admin(app, client)
    with app.app_context():
        program_id = make_program(slug="p").id
    form = {
        "program": str(program_id),
        "domain": "Anatomy",
        "prompt": "Where?",
        "choices_text": "Here\n* There\nNowhere",
        "explanation": "",
    }
    response = helpers.post(client, "/admin/exam-questions/new/", form)
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        question = db.session.scalar(select(ExamQuestion))
        assert [c["correct"] for c in question.choices] == [False, True, False]
    bad = helpers.post(client, "/admin/exam-questions/new/", {**form, "choices_text": "A\nB"})
    assert any("exactly one" in m for m in helpers.flashes(bad))
    alone = helpers.post(client, "/admin/exam-questions/new/", {**form, "choices_text": "* A\n "})
    assert any("at least two answers" in m for m in helpers.flashes(alone))
    with app.app_context():
        assert len(db.session.scalars(select(ExamQuestion)).all()) == 1


@pytest.mark.parametrize("reason", ["\u200b\u200b", "\u200d \u0301"])
def test_a_reason_of_zero_width_characters_alone_revokes_no_credential(app, client, reason):
    # The holder's email and the credential's history would give the reason as a blank.
    helpers.sign_in_admin(app, client)
    with app.app_context():
        credential_id = make_credential(support.create_user().id, make_program(slug="p")).id
    response = helpers.post(
        client,
        f"/admin/credentials/{credential_id}/revoke",
        {"revoke-reason": reason},
        follow_redirects=True,
    )
    assert any("Give a reason for the revocation." in m for m in helpers.flashes(response))
    with app.app_context():
        assert db.session.get(Credential, credential_id).status == "issued"


def test_a_revocation_without_a_reason_is_refused_at_the_reason_box(app, client):
    # Only flashed at the top after a redirect, it left the box unmarked a screen below on a
    # phone; a reason too long was even told to "give a reason".
    helpers.sign_in_admin(app, client)
    with app.app_context():
        credential_id = make_credential(support.create_user().id, make_program(slug="p")).id
    revoke = f"/admin/credentials/{credential_id}/revoke"
    empty = helpers.post(client, revoke, {"revoke-reason": " "})
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    box = re.search(r'<textarea[^>]*id="revoke-reason"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in box and "autofocus" in box
    under = re.search(r'<div id="revoke-reason-msg">(.*?)</div>', page, re.S).group(1)
    assert "Give a reason for the revocation." in under
    assert "Nothing changed. Give a reason for the revocation." in helpers.flashes(empty)
    long = helpers.post(client, revoke, {"revoke-reason": "x" * 501})
    assert long.status_code == 422
    assert not any("Give a reason" in m for m in helpers.flashes(long)), helpers.flashes(long)
    # What was typed stays in the box, to be shortened rather than written again.
    assert "x" * 501 in long.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Credential, credential_id).status == "issued"
    assert helpers.audit_entries(app, object_type="Credential") == []


# A valid address may be 254 characters long; the credential's history names the admin.
@pytest.mark.parametrize("email", [None, f"{'a' * 64}@{'b' * 63}.{'c' * 63}.example"])
def test_admin_revokes_a_credential_with_a_reason(app, client, email):
    admin_id = helpers.sign_in_admin(app, client, email=email)
    with app.app_context():
        user = support.create_user()
        credential_id = make_credential(user.id, make_program(slug="p")).id
        admin_email = db.session.get(User, admin_id).email
    response = helpers.post(
        client, f"/admin/credentials/{credential_id}/revoke", {"revoke-reason": "Misconduct"}
    )
    assert response.status_code == 302
    with app.app_context():
        credential = db.session.get(Credential, credential_id)
        assert credential.status == "revoked" and credential.revoked_reason == "Misconduct"
        actors = [e.actor for e in credential.events if e.kind == "revoked"]
        assert actors == [f"admin {admin_email}"]


def test_the_revoke_form_tells_the_admin_who_reads_the_reason(app, client):
    # The verification page says that and when, never why: the holder and admins read it.
    helpers.sign_in_admin(app, client)
    with app.app_context():
        user = support.create_user()
        credential_id = make_credential(user.id, make_program(slug="p")).id
    details = client.get(f"/admin/credentials/details/?id={credential_id}").text
    assert "Shown on the public verification page" not in details
    assert "Emailed to the member" in details and "never to the public" in details


def test_the_holder_is_emailed_once_when_their_credential_is_revoked(app, client):
    helpers.sign_in_admin(app, client)
    with app.app_context():
        user = support.create_user()
        email = user.email
        credential = make_credential(user.id, make_program(slug="p"))
        credential_id, code = credential.id, credential.code
    revoke = f"/admin/credentials/{credential_id}/revoke"
    helpers.post(client, revoke, {"revoke-reason": "License suspended by the board"})
    helpers.post(client, revoke, {"revoke-reason": "Again"})  # refused: revoked already
    # As a certificate's holder is: told it no longer stands, and why, before a client finds out.
    [mail] = [m for m in support.outbox(app) if m["To"] == email]
    body = support.body_of(mail)
    assert "revoked" in mail["Subject"] and code in body
    assert "License suspended by the board" in body and f"/programs/verify/{code}" in body


def test_a_credential_revocation_is_logged_with_its_state_before_and_after(app, client):
    helpers.sign_in_admin(app, client)
    with app.app_context():
        user = support.create_user()
        credential_id = make_credential(user.id, make_program(slug="p")).id
    helpers.post(
        client, f"/admin/credentials/{credential_id}/revoke", {"revoke-reason": "Misconduct"}
    )
    # As a certificate's revocation is: an auditor sees what it was and what it became.
    [entry] = helpers.audit_entries(app, action="program_credential_revoke")
    assert entry.before["status"] == "issued" and entry.before["revoked_at"] is None
    assert entry.after["status"] == "revoked" and entry.after["revoked_reason"] == "Misconduct"
    assert "data" not in entry.after  # the frozen credential text stays with the credential


def test_revoking_a_revoked_credential_keeps_the_first_reason(app, client):
    helpers.sign_in_admin(app, client)
    with app.app_context():
        user = support.create_user()
        credential_id = make_credential(user.id, make_program(slug="p")).id
    revoke = f"/admin/credentials/{credential_id}/revoke"
    helpers.post(client, revoke, {"revoke-reason": "Misconduct"})
    again = helpers.post(client, revoke, {"revoke-reason": "Other"}, follow_redirects=True)
    assert any("revoked already" in m for m in helpers.flashes(again)), helpers.flashes(again)
    with app.app_context():
        assert db.session.get(Credential, credential_id).revoked_reason == "Misconduct"
    assert len(helpers.audit_entries(app, object_type="Credential")) == 1
    missing = helpers.post(client, "/admin/credentials/999999/revoke", {"revoke-reason": "x"})
    assert missing.status_code == 404


def test_changing_a_credential_needs_a_fresh_password(app, client):
    helpers.sign_in_admin(app, client, fresh=False)
    with app.app_context():
        program = make_program(slug="fresh")
        failed = make_credential(support.create_user().id, program, status="failed").id
        issued = make_credential(support.create_user().id, program).id
    for path, fields in (
        (f"/admin/credentials/{failed}/issue-again", {}),
        (f"/admin/credentials/{issued}/revoke", {"revoke-reason": "Misconduct"}),
    ):
        response = helpers.post(client, path, fields)
        assert response.status_code == 302 and "/admin/confirm/" in response.headers["Location"]
    with app.app_context():
        assert db.session.get(Credential, failed).status == "failed"
        assert db.session.get(Credential, issued).status == "issued"
    assert helpers.audit_entries(app, action="program_credential_issue_again") == []


def test_a_program_with_credentials_is_kept_and_an_unused_one_can_go(app, client):
    with app.app_context():
        kept = make_program(title="Held program")
        make_credential(support.create_user().id, kept)
        unused = make_program(title="Never taken")
        kept_id, unused_id = kept.id, unused.id
    helpers.sign_in_admin(app, client)
    single = helpers.post(client, "/admin/programs/delete/", {"id": kept_id}, follow_redirects=True)
    bulk = helpers.post(
        client,
        "/admin/programs/action/",
        {"action": "delete", "rowid": [str(kept_id)]},
        follow_redirects=True,
    )
    for response in (single, bulk):
        assert any("cannot be deleted" in m for m in helpers.flashes(response))
    with app.app_context():
        assert db.session.get(Program, kept_id) is not None
        assert len(db.session.scalars(select(Credential)).all()) == 1
    helpers.post(client, "/admin/programs/delete/", {"id": unused_id})
    with app.app_context():
        assert db.session.get(Program, unused_id) is None
        (entry,) = helpers.audit_entries(app, action="delete")
        assert entry.before["title"] == "Never taken"


@pytest.mark.parametrize("slug", ["Neck Work", "neck/2026", "neck?x=1", "verify"])
def test_a_slug_the_programs_addresses_cannot_carry_is_refused(app, client, slug):
    # "neck/2026" gave a program whose page and exam answered 404, and "verify" one whose
    # credential download opened the verify page of a code "credential.pdf".
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/programs/new/", _program_form(slug=slug))
    assert response.status_code == 200
    assert any("slug" in m.lower() or "hyphens" in m for m in helpers.flashes(response))
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


def test_a_program_no_candidate_could_complete_cannot_be_published(app, client):
    helpers.sign_in_admin(app, client)
    with app.app_context():
        elective = make_course("neck-elective", hours="2").id
        from campus.learning import services

        draft = services.create_course(
            slug="neck-draft", title="Neck basics", summary="s", ce_hours=2, topic="Neck"
        )
        db.session.commit()
        draft_id = draft.id
    short = _program_form(
        elective_hours="6",
        **{"courses-0-course": str(elective), "courses-0-kind": "elective"},
    )
    unopened = _program_form(**{"courses-0-course": str(draft_id), "courses-0-kind": "required"})
    refused = [
        (short, "6 elective hours"),
        (unopened, "Neck basics is a draft course"),
    ]
    for form, said in refused:
        response = helpers.post(client, "/admin/programs/new/", form)
        assert response.status_code == 200
        assert any(said in m for m in helpers.flashes(response)), helpers.flashes(response)
    with app.app_context():
        assert db.session.scalar(select(Program)) is None
    # A draft program may be built in steps.
    response = helpers.post(client, "/admin/programs/new/", {**short, "published": ""})
    assert response.status_code == 302, helpers.flashes(response)


def test_a_course_listed_twice_in_a_program_is_refused_with_its_name(app, client):
    helpers.sign_in_admin(app, client)
    with app.app_context():
        course_id = make_course("neck-twice").id
    form = _program_form(
        **{
            "courses-0-course": str(course_id),
            "courses-0-kind": "required",
            "courses-1-course": str(course_id),
            "courses-1-kind": "elective",
        }
    )
    response = helpers.post(client, "/admin/programs/new/", form)
    assert response.status_code == 200
    # Not "another record was saved just now", which sends the admin to look for someone else.
    assert any("Course neck-twice is listed twice" in m for m in helpers.flashes(response)), (
        helpers.flashes(response)
    )
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


def test_a_course_a_program_requires_is_kept_out_of_deletion(app, client):
    from campus.learning.models import Course

    with app.app_context():
        course = make_course("neck-required")
        program = make_program(courses=[course], title="Neck program")
        course_id, program_id = course.id, program.id
    helpers.sign_in_admin(app, client)
    single = helpers.post(
        client, "/admin/courses/delete/", {"id": course_id}, follow_redirects=True
    )
    bulk = helpers.post(
        client,
        "/admin/courses/action/",
        {"action": "delete", "rowid": [str(course_id)]},
        follow_redirects=True,
    )
    # Deleting it took it out of the program's requirements with no trace in the program's log:
    # its credential was then earned without the course.
    for response in (single, bulk):
        assert any("Neck program" in m for m in helpers.flashes(response)), helpers.flashes(
            response
        )
    with app.app_context():
        assert db.session.get(Course, course_id) is not None
        assert [c.id for c in db.session.get(Program, program_id).required_courses] == [course_id]
    assert helpers.audit_entries(app, action="delete") == []


def test_a_question_outside_the_programs_exam_domains_is_refused(app, client):
    # Filed under "Anatomy " or "anatomy" it looked like an Anatomy question in the bank, while
    # no paper ever drew it and the program page said the Anatomy bank was short.
    helpers.sign_in_admin(app, client)
    with app.app_context():
        program_id = make_program(slug="p", exam_domain_weights={"Anatomy": 1}).id
    form = {
        "program": str(program_id),
        "prompt": "Where?",
        "choices_text": "Here\n* There",
        "explanation": "",
    }
    for domain in ("anatomy", "Physiology", "  "):
        response = helpers.post(client, "/admin/exam-questions/new/", {**form, "domain": domain})
        assert response.status_code == 200, domain
        assert any("Anatomy" in m for m in helpers.flashes(response)), helpers.flashes(response)
    with app.app_context():
        assert db.session.scalar(select(ExamQuestion)) is None
    response = helpers.post(client, "/admin/exam-questions/new/", {**form, "domain": " Anatomy "})
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        assert db.session.scalar(select(ExamQuestion.domain)) == "Anatomy"


def test_a_program_title_or_accrediting_body_of_spaces_is_no_title_or_body(app, client):
    helpers.sign_in_admin(app, client)
    blank_title = helpers.post(client, "/admin/programs/new/", _program_form(title="   "))
    assert blank_title.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Program)) is None
    # Saved as typed, the page said "accredited by   ." of a program no body accredits.
    # A draft (no exam bank yet): its page still opens for the admin.
    response = helpers.post(
        client, "/admin/programs/new/", _program_form(accrediting_body="  ", published="")
    )
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        assert db.session.scalar(select(Program.accrediting_body)) is None
    page = client.get("/programs/certified-neck-specialist").get_data(as_text=True)
    assert "not an accredited certification" in page and "accredited by" not in page


@pytest.mark.parametrize(
    ("prompt", "choices", "said"),
    [
        ("   ", "* Here\nThere", "Write the question"),
        ("Where?", "*\nThere\nNowhere", "Line 1: an answer needs its text"),
        ("Where?", "* Here\nThere\nhere", "Line 3: the answer 'here' is given twice"),
    ],
)
def test_an_exam_question_a_candidate_could_not_read_or_tell_apart_is_refused(
    app, client, prompt, choices, said
):
    # Each was saved to the bank: a paper with a blank question, a blank right answer, or the
    # right answer printed twice, once counted wrong.
    helpers.sign_in_admin(app, client)
    with app.app_context():
        program_id = make_program(slug="p").id
    form = {
        "program": str(program_id),
        "domain": "Anatomy",
        "prompt": prompt,
        "choices_text": choices,
        "explanation": "",
    }
    response = helpers.post(client, "/admin/exam-questions/new/", form)
    assert response.status_code == 200
    assert any(said in m for m in helpers.flashes(response)), helpers.flashes(response)
    with app.app_context():
        assert db.session.scalar(select(ExamQuestion)) is None


@pytest.mark.parametrize("rubric", ["", "  \n \n"])
def test_a_practical_with_no_rubric_criteria_is_refused(app, client, rubric):
    # Saved, candidates filmed their techniques for an assessor who had nothing to mark.
    helpers.sign_in_admin(app, client)
    for published in ("y", ""):
        form = _program_form(practical_required="y", rubric=rubric, published=published)
        response = helpers.post(client, "/admin/programs/new/", form)
        assert response.status_code == 200
        assert any("rubric" in m and "criterion" in m for m in helpers.flashes(response)), (
            helpers.flashes(response)
        )
    with app.app_context():
        assert db.session.scalar(select(Program)) is None
    # With no practical, the rubric may stay empty.
    response = helpers.post(
        client, "/admin/programs/new/", _program_form(rubric=rubric, published="")
    )
    assert response.status_code == 302, helpers.flashes(response)


def test_a_program_whose_bank_cannot_fill_its_exam_cannot_be_published(app, client):
    # Published, its candidates finished every course, then read "The exam is being prepared".
    from tests.programs.helpers import add_questions

    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/programs/new/", _program_form(published=""))
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        program = db.session.scalar(select(Program))
        program_id = program.id
        add_questions(program, "Anatomy", 1)
    edit = f"/admin/programs/edit/?id={program_id}"
    response = helpers.post(client, edit, _program_form())
    assert response.status_code == 200
    said = " ".join(helpers.flashes(response))
    # 9 questions weighted 2:1 draw 6 Anatomy and 3 Technique.
    assert "Anatomy: 5 questions short (6 drawn, 1 in the bank)" in said, said
    assert "Technique: 3 questions short (3 drawn, 0 in the bank)" in said, said
    with app.app_context():
        assert db.session.get(Program, program_id).published is False
        add_questions(db.session.get(Program, program_id), "Anatomy", 5)
        add_questions(db.session.get(Program, program_id), "Technique", 3)
    response = helpers.post(client, edit, _program_form())
    assert response.status_code == 302, helpers.flashes(response)
    # Once published, asking for more questions than the bank holds is refused as well.
    response = helpers.post(client, edit, _program_form(exam_question_count="12"))
    assert response.status_code == 200
    assert any("questions short" in m for m in helpers.flashes(response))
    with app.app_context():
        assert db.session.get(Program, program_id).exam_question_count == 9


def test_a_question_a_published_exam_needs_cannot_be_deleted_or_moved(app, client):
    from tests.programs.helpers import add_questions

    with app.app_context():
        program = make_program(slug="p", title="Neck program")  # draws 2 Anatomy, 2 Technique
        program_id = program.id
        anatomy = add_questions(program, "Anatomy", 2)
        add_questions(program, "Technique", 3)
        draft = make_program(slug="d", published=False)
        unused = add_questions(draft, "Anatomy", 1)
    helpers.sign_in_admin(app, client)
    single = helpers.post(
        client, "/admin/exam-questions/delete/", {"id": anatomy[0]}, follow_redirects=True
    )
    bulk = helpers.post(
        client,
        "/admin/exam-questions/action/",
        {"action": "delete", "rowid": [str(i) for i in anatomy]},
        follow_redirects=True,
    )
    for response in (single, bulk):
        said = " ".join(helpers.flashes(response))
        assert "Neck program" in said and "Anatomy: 1 question short" in said, said
    moved = helpers.post(
        client,
        f"/admin/exam-questions/edit/?id={anatomy[0]}",
        {
            "program": str(program_id),
            "domain": "Technique",
            "prompt": "Where?",
            "choices_text": "Here\n* There",
            "explanation": "",
        },
    )
    assert moved.status_code == 200
    assert any("Anatomy: 1 question short" in m for m in helpers.flashes(moved))
    with app.app_context():
        domains = db.session.scalars(
            select(ExamQuestion.domain).where(ExamQuestion.id.in_(anatomy))
        ).all()
        assert domains == ["Anatomy", "Anatomy"]
    # A question the exam can spare, or one of a draft program, goes.
    with app.app_context():
        technique = db.session.scalar(
            select(ExamQuestion.id).where(ExamQuestion.domain == "Technique")
        )
    for question_id in (technique, unused[0]):
        helpers.post(client, "/admin/exam-questions/delete/", {"id": question_id})
        with app.app_context():
            assert db.session.get(ExamQuestion, question_id) is None


def _course_in_program(valid_until, *, kind: str = "required", published: bool = True) -> int:
    """A published course with one NCBTMB approval, listed by the program "Neck program"."""
    from campus.learning.models import BoardApproval

    course = make_course("neck-needed", hours="2")
    course.approvals.append(BoardApproval(board="NCBTMB", approval_number="1", valid_until=None))
    db.session.commit()
    if valid_until is not None:  # lapsed since it was entered
        course.approvals[0].valid_until = valid_until
        db.session.commit()
    listed = {"courses": [course]} if kind == "required" else {"electives": [course]}
    make_program(title="Neck program", published=published, elective_hours=2, **listed)
    return course.id


def _unpublish(client, course_id: int) -> list:
    from tests.admin.test_catalog import _course_form

    listed = helpers.post(
        client,
        "/admin/courses/action/",
        {"action": "unpublish", "rowid": [str(course_id)]},
        follow_redirects=True,
    )
    form = _course_form(slug="neck-needed", title="Course neck-needed", ce_hours="2")
    edited = helpers.post(client, f"/admin/courses/edit/?id={course_id}", form)
    return [listed, edited]


@pytest.mark.parametrize("kind", ["required", "elective"])
def test_a_course_a_published_program_needs_cannot_be_unpublished(app, client, kind):
    # Unpublished, the program's candidates could not open it: no one could complete the program.
    from campus.learning.models import Course

    with app.app_context():
        course_id = _course_in_program(None, kind=kind)
    helpers.sign_in_admin(app, client)
    for response in _unpublish(client, course_id):
        said = " ".join(helpers.flashes(response))
        assert "Neck program" in said and "cannot be unpublished" in said, said
        with app.app_context():
            assert db.session.get(Course, course_id).status == "published"
    assert helpers.audit_entries(app, action="unpublish") == []


def test_a_course_whose_approvals_lapsed_is_unpublished_with_a_warning_naming_programs(app, client):
    # Its certificates would print no approval: unpublishing is the remedy, but the program's
    # candidates are stuck until it is approved again, so the admin is told which programs.
    from datetime import date

    from campus.learning.models import Course

    with app.app_context():
        course_id = _course_in_program(date(2020, 1, 1))
    helpers.sign_in_admin(app, client)
    listed, _edited = _unpublish(client, course_id)
    said = " ".join(helpers.flashes(listed))
    assert "Neck program" in said and "no candidate can complete" in said, said
    with app.app_context():
        assert db.session.get(Course, course_id).status == "draft"


def test_a_draft_moving_the_approval_out_of_force_in_the_same_form_is_refused(app, client):
    # The approval in force is what refuses the Draft: moving its first day past today in the
    # same form must not turn the refusal into a warning and close the program's course.
    from campus.learning.models import BoardApproval, Course
    from tests.admin.test_catalog import _course_form

    with app.app_context():
        course_id = _course_in_program(None)
        approval_id = db.session.scalar(select(BoardApproval.id))
    helpers.sign_in_admin(app, client)
    form = _course_form(
        slug="neck-needed",
        title="Course neck-needed",
        ce_hours="2",
        **{
            "approvals-0-id": str(approval_id),
            "approvals-0-board": "NCBTMB",
            "approvals-0-approval_number": "1",
            "approvals-0-valid_from": "2099-01-01",
        },
    )
    response = helpers.post(client, f"/admin/courses/edit/?id={course_id}", form)
    said = " ".join(helpers.flashes(response)) + response.get_data(as_text=True)
    assert "cannot be unpublished" in said
    with app.app_context():
        assert db.session.get(Course, course_id).status == "published"
        assert db.session.get(BoardApproval, approval_id).valid_from is None


def test_a_course_of_a_draft_program_is_unpublished_freely(app, client):
    from campus.learning.models import Course

    with app.app_context():
        course_id = _course_in_program(None, published=False)
    helpers.sign_in_admin(app, client)
    listed, _edited = _unpublish(client, course_id)
    assert not any("Neck program" in m for m in helpers.flashes(listed))
    with app.app_context():
        assert db.session.get(Course, course_id).status == "draft"


def test_a_practical_with_no_techniques_to_film_is_refused(app, client):
    # Saved, the program page asked candidates to film "these techniques" over an empty list.
    helpers.sign_in_admin(app, client)
    form = _program_form(practical_required="y", practical_techniques=" \n ", published="")
    response = helpers.post(client, "/admin/programs/new/", form)
    assert response.status_code == 200
    assert any("technique" in m for m in helpers.flashes(response)), helpers.flashes(response)
    with app.app_context():
        assert db.session.scalar(select(Program)) is None
