"""The Your data page: the archive of everything we hold, and deleting the account."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus.accounts.access import code_checks, forget_browser_session, password_checks
from campus.accounts.forms import EmptyForm
from campus.extensions import db, limiter
from campus.models.base import utcnow
from campus.records import actions, bp, services
from campus.records.forms import DeleteAccountForm
from campus.records.services import RecordsError
from campus.storage import send
from campus.templating import format_date
from campus.throttling import by_user, failed, setting


def _user():
    return current_user._get_current_object()


def _page(status: int = 200, delete_form: DeleteAccountForm | None = None) -> tuple[str, int]:
    user = _user()
    return render_template(
        "records/data.html",
        latest=services.latest_export(user),
        now=utcnow(),
        button_form=EmptyForm(),
        delete_form=delete_form or DeleteAccountForm(formdata=None),
        retention_years=current_app.config["CE_RECORD_RETENTION_YEARS"],
        confirmation_word=actions.CONFIRMATION_WORD,
    ), status


@bp.get("/account/data")
@login_required
def data() -> tuple[str, int]:
    """Show the archive's status and the account deletion form."""
    return _page()


@bp.post("/account/data/export")
@login_required
def request_export() -> Response:
    """Ask the worker for a new archive of the member's data."""
    EmptyForm().validate_on_submit()
    try:
        actions.request_export(_user())
    except RecordsError as exc:
        db.session.rollback()
        flash(exc.message, "info")
    else:
        db.session.commit()
        flash("We are preparing your archive and will email you a link when it's ready.", "success")
    return redirect(url_for("records.data"))


@bp.get("/account/data/export/<int(max=2147483647):export_id>")
@login_required
def download_export(export_id: int) -> Response | tuple[str, int]:
    """Send the member their own archive while its link works."""
    try:
        export = actions.download_export(_user(), export_id)
    except RecordsError as exc:
        db.session.rollback()
        return render_template("records/link_problem.html", message=exc.message), exc.status
    # Streamed from the shared store in chunks, whichever host built it.
    name = f"campus-data-{format_date(export.requested_at, '%Y%m%d')}.zip"
    response = (
        send(export.storage_key, mimetype="application/zip", download_name=name)
        if export.storage_key
        else None
    )
    if response is None:
        db.session.rollback()  # nothing was downloaded: no entry says it was
        message = "This archive is no longer stored. Ask for a new archive on the Your data page."
        return render_template("records/link_problem.html", message=message), 404
    db.session.commit()
    return response


@bp.post("/account/delete")
@login_required
@limiter.limit(
    setting("ACCOUNT_DELETE_RATE_LIMIT"), key_func=by_user, methods=["POST"], deduct_when=failed
)
@password_checks
@code_checks
def delete_account() -> Response | tuple[str, int]:
    """Delete the account after the password, the second factor and the typed confirmation."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _page(422, delete_form=form)
    try:
        done = actions.delete_account(
            _user(),
            password=form.password.data,
            code=form.code.data,
            confirmation=form.confirmation.data,
        )
    except RecordsError as exc:
        db.session.rollback()
        actions.record_refusal(_user(), exc)
        db.session.commit()
        if exc.field is not None and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        else:
            flash(exc.message, "error")
        return _page(exc.status, delete_form=form)
    db.session.commit()
    forget_browser_session()
    return redirect(url_for("records.deleted", kept=int(done.hold is not None)))


@bp.get("/account/deleted")
def deleted() -> str:
    """Say the account is gone and what was kept for the boards."""
    # Only the deletion sets `kept`: anyone else opening this page is told nothing was kept.
    return render_template(
        "records/deleted.html",
        kept=request.args.get("kept") == "1",
        retention_years=current_app.config["CE_RECORD_RETENTION_YEARS"],
    )
