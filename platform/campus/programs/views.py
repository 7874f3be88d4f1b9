"""Program pages: the list, requirements and progress, the exam, the practical, verification."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    after_this_request,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from campus import dates
from campus.accounts.access import acts_as_admin
from campus.accounts.models import User
from campus.certificates import revocations, signing
from campus.errors import handle_http_exception, json_error
from campus.extensions import db, limiter
from campus.integers import id_from
from campus.models.base import utcnow
from campus.programs import (
    actions,
    attempts,
    bp,
    codes,
    documents,
    exam,
    issuing,
    practicals,
    retired,
)
from campus.programs.eligibility import professions_text
from campus.programs.models import Credential, ExamSitting, Program, ProgramCourse
from campus.programs.progress import progress
from campus.programs.standing import standing
from campus.security import any_origin
from campus.storage import send
from campus.throttling import by_address, setting
from campus.urls import public_url
from campus.wording import refusal


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _program_or_404(slug: str, *, holders: bool = False) -> Program:
    program = db.session.scalar(
        select(Program)
        .where(Program.slug == slug[:120])
        .options(selectinload(Program.courses).selectinload(ProgramCourse.course))
    )
    if program is None or not _shown_to(program, _user(), holders=holders):
        abort(404)
    return program


def _shown_to(program: Program, user: User | None, *, holders: bool = True) -> bool:
    """Tell whether the program's page opens for this user (with `holders`, as for a holder)."""
    # An admin previews an unpublished program with the admin's standing only, as in /admin/.
    if program.published or acts_as_admin(user):
        return True
    # A program unpublished (retired, as the admin is told to instead of deleting one with
    # credentials) still shows its page to a candidate with work in it: a credential (any
    # period's, so a newer one pending does not hide the issued one), an exam sitting, a video
    # waiting for review. That work goes on, and the page says what the retirement means.
    if not holders or user is None:
        return False
    return retired.has_work_in(user, program)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/")
def index():
    """List the published programs, with the signed-in candidate's status in each."""
    programs = db.session.scalars(
        select(Program)
        .where(Program.published.is_(True))
        .order_by(Program.title)
        .options(selectinload(Program.courses).selectinload(ProgramCourse.course))
    ).all()
    user = _user()
    states = {p.id: progress(user, p) for p in programs} if user else {}
    db.session.commit()  # an expired sitting may have been closed on the way
    return render_template(
        "programs/index.html",
        programs=programs,
        states=states,
        standing=standing,
        professions_text=professions_text,
    )


@bp.get("/<slug>")
def detail(slug: str):
    """Show what a program requires and, signed in, the candidate's progress through it."""
    program = _program_or_404(slug, holders=True)
    user = _user()
    state = progress(user, program) if user else None
    today = dates.today()
    # Lapsed but within the renewal grace on hours earned in time: the next check renews it,
    # so the page must not send the holder to the exam.
    renewing = bool(state and issuing.awaiting_renewal(state))
    # Still valid, the hours already earned (the check after the course lost or still queued):
    # the nightly check renews it, so the page must not ask for those hours again.
    credential = state.credential if state else None
    renewal_earned = bool(
        credential
        and credential.status_on(today) == "valid"
        and issuing.renewal_due(credential, today)
    )
    # Admins preview an unpublished program; a candidate opening a retired one is told why.
    retired_note = (
        retired.retirement_note(state, today)
        if state and not program.published and not acts_as_admin(user)
        else None
    )
    db.session.commit()
    return _private(
        Response(
            render_template(
                "programs/detail.html",
                program=program,
                state=state,
                standing=standing(program),
                professions_text=professions_text(program),
                video_limit=practicals.limit_text(),
                shortfall=exam.bank_shortfall(program),
                today=today,
                renewing=renewing,
                renewal_earned=renewal_earned,
                retired_note=retired_note,
            )
        )
    )


@bp.post("/<slug>/exam")
@login_required
def start_exam(slug: str):
    """Start a sitting of the exam (or go back to the open one)."""
    program = _program_or_404(slug)
    try:
        sitting = actions.start_exam(current_user._get_current_object(), program)
        db.session.commit()
    except exam.ExamError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("programs.detail", slug=slug))
    return redirect(url_for("programs.sitting", slug=slug, sitting_id=sitting.id))


def _own_sitting(slug: str, sitting_id: int) -> tuple[Program, ExamSitting]:
    sitting = db.session.get(ExamSitting, sitting_id)
    if sitting is None or sitting.user_id != current_user.id or sitting.program.slug != slug:
        abort(404)
    # Published or not: a paper frozen at its start is answered and submitted to its end even
    # if the program is unpublished meanwhile; only new sittings need a published program.
    return sitting.program, sitting


def _answers_from(form) -> dict[int, int]:
    """Read q-<question id> = <choice id> pairs; anything else is ignored or refused."""
    answers: dict[int, int] = {}
    for name, value in form.items():
        if not name.startswith("q-"):
            continue
        question_id, choice_id = id_from(name[2:]), id_from(value)
        if question_id is None or choice_id is None:
            raise exam.AnswerError("An answer was not understood.")
        answers[question_id] = choice_id
    return answers


@bp.get("/<slug>/exam/<int:sitting_id>")
@login_required
def sitting(slug: str, sitting_id: int):
    """Show an open sitting's paper with the server's deadline, or a closed one's result."""
    program, sitting = _own_sitting(slug, sitting_id)
    if sitting.is_open and sitting.deadline_at <= utcnow():
        actions.close_expired_sitting(sitting.id)
    # A failed attempt's result says what comes next: the attempts left and when one opens.
    after = (
        None
        if sitting.is_open or sitting.passed
        else exam.state(current_user._get_current_object(), program)
    )
    db.session.commit()
    return _private(
        Response(
            render_template(
                "programs/sitting.html",
                program=program,
                sitting=sitting,
                attempt=attempts.attempt_number(sitting),
                after=after,
                seconds_left=max(int((sitting.deadline_at - utcnow()).total_seconds()), 0),
            )
        )
    )


@bp.post("/<slug>/exam/<int:sitting_id>/answers")
@login_required
def save_answers(slug: str, sitting_id: int):
    """Autosave answers as they are chosen (JSON); refused after the deadline."""
    _program, sitting = _own_sitting(slug, sitting_id)
    try:
        actions.save_answers(
            current_user._get_current_object(), sitting, _answers_from(request.form)
        )
        db.session.commit()
    except exam.AnswerError as exc:
        db.session.rollback()
        return jsonify(error={"code": "validation_error", "message": exc.message}), 422
    except exam.ExamError as exc:
        db.session.commit()  # a sitting closed at its deadline stays closed
        return jsonify(error={"code": "refused", "message": exc.message}), 409
    return jsonify(saved=len(sitting.answers), deadline=sitting.deadline_at.isoformat())


@bp.post("/<slug>/exam/<int:sitting_id>/submit")
@login_required
def submit_exam(slug: str, sitting_id: int):
    """Submit the sitting: answers count only if they arrive before the deadline."""
    _program, sitting = _own_sitting(slug, sitting_id)
    try:
        actions.submit_exam(
            current_user._get_current_object(), sitting, _answers_from(request.form)
        )
        db.session.commit()
    except exam.ExamError as exc:
        db.session.commit()
        flash(exc.message, "error")
    return redirect(url_for("programs.sitting", slug=slug, sitting_id=sitting.id))


@bp.post("/<slug>/practical")
@login_required
@limiter.limit(setting("PRACTICAL_UPLOAD_RATE_LIMIT"), key_func=by_address)
def submit_practical(slug: str):
    """Receive the practical video (size, extension and content checked) for review."""
    program = _program_or_404(slug)
    # A refusal is said in the flash at the top of the page, so the page opens there; a video
    # taken shows as waiting for review in the practical section, so the page opens at that.
    refused = redirect(url_for("programs.detail", slug=slug))
    upload = request.files.get("video")
    if upload is None or not upload.filename:
        flash("Choose a video file to upload.", "error")
        return refused
    try:
        actions.submit_practical(
            current_user._get_current_object(), program, upload.stream, upload.filename
        )
        db.session.commit()
    except practicals.PracticalError as exc:
        db.session.rollback()
        flash(refusal("The video was not accepted", exc.message), "error")
        return refused
    flash("Your video is uploaded; an assessor will review it and email you.", "success")
    return redirect(url_for("programs.detail", slug=slug) + "#practical")


# Room for the form's other fields and the multipart headers around the video.
_FORM_OVERHEAD = 64 * 1024


def allow_video_bodies() -> None:
    """Let a candidate's practical upload past the site's MAX_CONTENT_LENGTH (runs before CSRF)."""
    # A path holding a NUL is answered 404 by a later hook; PostgreSQL cannot even compare it.
    if request.endpoint != "programs.submit_practical" or "\x00" in request.path:
        return
    # Only someone the upload form is shown to: for anyone else (a visitor, a member the
    # program cannot certify, any slug) the CSRF check read a body of up to PRACTICAL_MAX_BYTES
    # to its end before refusing it, as often as it was sent.
    user = _user()
    slug = str((request.view_args or {}).get("slug", ""))[:120]
    program = db.session.scalar(select(Program).where(Program.slug == slug)) if user else None
    if user is None or program is None or not (program.published or acts_as_admin(user)):
        return
    if practicals.may_submit(user, program) is None:
        request.max_content_length = practicals.max_bytes() + _FORM_OVERHEAD


@bp.errorhandler(RequestEntityTooLarge)
def video_too_large(exc: RequestEntityTooLarge):
    """Tell a candidate whose video is over the practical's limit that limit, not the site's."""
    granted = practicals.max_bytes() + _FORM_OVERHEAD
    if request.endpoint != "programs.submit_practical" or request.max_content_length != granted:
        return handle_http_exception(exc)
    return handle_http_exception(
        RequestEntityTooLarge(
            f"Your video is larger than {practicals.limit_text()}, the most a practical video "
            "may be. "
            "Shorten it or export it at a lower resolution, then upload it again."
        )
    )


@bp.get("/<slug>/credential.pdf")
@login_required
def credential_pdf(slug: str):
    """Download the signed-in holder's credential PDF."""
    program = _program_or_404(slug, holders=True)
    # The newest period issued or revoked: an older one must not stand in for a credential
    # revoked since. (One still being prepared leaves the last issued PDF to download.)
    credential = db.session.scalar(
        select(Credential)
        .where(
            Credential.user_id == current_user.id,
            Credential.program_id == program.id,
            Credential.status.in_(("issued", "revoked")),
        )
        .order_by(Credential.period.desc())
        .limit(1)
    )
    if credential is None:
        abort(404)
    if credential.status == "revoked":
        abort(404, "Your credential was revoked: there is no PDF of it to download.")
    if not credential.storage_key:
        abort(404, "That credential has no PDF to download yet.")
    # Streamed from the shared store, whichever host issued it; a file it lost is a 404.
    response = send(
        credential.storage_key,
        mimetype="application/pdf",
        download_name=f"{credential.code}.pdf",
        as_attachment=False,
    )
    if response is None:
        abort(404, "That credential has no PDF to download yet.")
    return _private(response)


_verify_limit = limiter.shared_limit(
    setting("VERIFY_PAGE_RATE_LIMIT"), scope="credential-verify", key_func=by_address
)


def _public_credential(code: str) -> Credential | None:
    canonical = codes.normalize(code)
    if canonical is None:
        return None
    credential = db.session.scalar(select(Credential).where(Credential.code == canonical))
    if credential is None or credential.status not in ("issued", "revoked"):
        return None
    return credential


@bp.get("/verify/<code>")
@_verify_limit
def verify(code: str):
    """Show anyone whether a credential is valid, expired or revoked."""
    credential = _public_credential(code)
    if credential is None:
        return render_template("programs/not_found.html", code=code), 404
    return render_template(
        "programs/verify.html",
        credential=credential,
        data=credential.data,
        state=credential.status_on(dates.today()),
    )


@bp.get("/verify/<code>.json")
@_verify_limit
def verify_json(code: str):
    """Answer the signed Open Badges 3.0 credential of a valid credential, or its status."""
    # Verifiers in a browser on another site read this with the keys (jwks, open to all too).
    after_this_request(any_origin)
    credential = _public_credential(code)
    if credential is None:
        return jsonify(error={"code": "not_found", "message": "No credential has that code."}), 404
    state = credential.status_on(dates.today())
    if state != "valid":
        body = {"code": credential.code, "status": state}
        body["valid_until"] = credential.valid_until.isoformat()
        if state == "revoked" and credential.revoked_at is not None:
            # That and when, never why: the reason can be private; the holder and admins read it.
            body["revoked_at"] = credential.revoked_at.isoformat()
        return jsonify(body)
    return jsonify(
        code=credential.code,
        status=state,
        valid_until=credential.valid_until.isoformat(),
        credential=documents.badge(credential),
        jwt=documents.signed_badge(credential),
        jwks_url=public_url("certificates.jwks"),
        key_id=signing.key_id(),
    )


@bp.get("/verify/<code>/revocations.json")
@_verify_limit
def revocation_list(code: str):
    """Answer the 1EdTech Revocation List a credential's badge names, read live."""
    after_this_request(any_origin)
    credential = _public_credential(code)
    if credential is None:
        return json_error("not_found", "No credential has that code.", 404)
    return revocations.answer(documents.revocation_list(credential))
