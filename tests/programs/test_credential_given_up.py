"""A credential the sweep gave up on is not shown to its holder as still being prepared."""

from __future__ import annotations

from campus.extensions import db
from tests import support
from tests.programs.helpers import candidate, make_credential, ready_program


def _holder_with(app, status: str, attempts: int) -> tuple[str, str]:
    """(email, program slug) of a candidate whose credential is left `status` after tries."""
    with app.app_context():
        program, courses = ready_program()
        user = candidate(courses)
        credential = make_credential(user.id, program, status=status, attempts=attempts)
        credential.issued_at = None  # never issued
        db.session.commit()
        return user.email, program.slug


def _shown(client, slug: str) -> tuple[str, dict]:
    page = client.get(f"/programs/{slug}").get_data(as_text=True)
    (listed,) = [p for p in client.get("/api/v1/programs").get_json()["programs"]]
    return page, listed["progress"]


def test_a_credential_out_of_tries_tells_its_holder_to_ask_the_provider(app):
    # The sweep stops after CREDENTIAL_SWEEP_MAX_ATTEMPTS: nothing will issue it until an admin
    # issues it again, yet the page said "being prepared" and the API "pending", for good.
    most = app.config["CREDENTIAL_SWEEP_MAX_ATTEMPTS"]
    email, slug = _holder_with(app, "failed", most)
    client = app.test_client()
    support.login(client, email)
    page, progress = _shown(client, slug)
    assert "being prepared" not in page
    assert "our staff" in page and app.config["PROVIDER_EMAIL"] in page
    # status keeps its meaning; the added field says which "pending" this is.
    assert progress["status"] == "pending" and progress["credential_given_up"] is True


def test_a_credential_with_tries_left_is_still_being_prepared(app):
    email, slug = _holder_with(app, "failed", 1)
    client = app.test_client()
    support.login(client, email)
    page, progress = _shown(client, slug)
    assert "being prepared" in page
    assert progress["status"] == "pending" and progress["credential_given_up"] is False


def test_the_openapi_document_describes_the_given_up_field(client):
    document = client.get("/api/v1/openapi.json").get_json()
    field = document["components"]["schemas"]["ProgramProgress"]["properties"]
    assert field["credential_given_up"]["type"] == "boolean"


def test_a_credential_is_not_tried_again_once_its_holder_is_told_it_needs_the_staff(
    app, monkeypatch
):
    # The issuing task retried itself past CREDENTIAL_SWEEP_MAX_ATTEMPTS: the page told the
    # holder to write to the provider (given up) while a retry was still queued, which could
    # then issue it unannounced, or fail on with no bound the sweep's limit promised.
    from campus.programs import actions, issuing
    from campus.programs.models import Credential
    from tests.programs.helpers import right_answers

    monkeypatch.setitem(app.config, "CREDENTIAL_SWEEP_MAX_ATTEMPTS", 3)
    tries: list[int] = []
    real_render = issuing.documents.render_pdf

    def render_failing_three_times(credential):
        tries.append(credential.attempts)
        if len(tries) <= 3:
            raise OSError("No space left on device")
        return real_render(credential)

    monkeypatch.setattr(issuing.documents, "render_pdf", render_failing_three_times)
    with app.app_context():
        program, courses = ready_program()
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, right_answers(sitting))  # issuing runs (eager)
        db.session.commit()
    with app.app_context():
        credential = db.session.scalars(db.select(Credential)).one()
        assert (credential.status, credential.attempts) == ("failed", 3)
        assert credential.given_up
    assert len(tries) == 3
