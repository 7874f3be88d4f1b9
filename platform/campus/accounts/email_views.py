"""Changing the account's email address: ask, then confirm from the new inbox."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus.accounts import bp, email_change, sessions
from campus.accounts.access import code_checks, open_browser_session, password_checks
from campus.accounts.forms import ChangeEmailForm, EmptyForm
from campus.accounts.services import AccountError, AlreadyVerified
from campus.audit import record_refusal
from campus.extensions import db, limiter
from campus.templating import counted
from campus.throttling import by_user, setting


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@limiter.limit(setting("EMAIL_CHANGE_RATE_LIMIT"), key_func=by_user, methods=["POST"])
@password_checks
@code_checks
def change_email() -> str | tuple[str, int]:
    """Ask for a new address; the answer is the same whether or not it is someone else's."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            address = email_change.request_change(
                user,
                form.email.data,
                form.password.data,
                current_app.config["EMAIL_CHANGE_MAX_AGE"],
                form.code.data or "",
            )
        except AccountError as exc:
            db.session.rollback()
            record_refusal("email_change_refused", user, exc.wrong)
            db.session.commit()  # the refusal's entry alone
            name = exc.field if exc.field in form else "email"
            form[name].errors = [*form[name].errors, str(exc)]
        else:
            db.session.commit()
            return render_template("accounts/email_sent.html", email=address), 200
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/change_email.html", form=form), status


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
@login_required
def confirm_email_change(token: str) -> str | Response | tuple[str, int]:
    """Show the address the emailed link would make the account's; its button makes it so."""
    user = current_user._get_current_object()
    form = EmptyForm()
    try:
        if not form.validate_on_submit():
            # Opening the link changes nothing: mail scanners open every link in a message.
            address = email_change.pending_change(user, token)
            return render_template(
                "accounts/confirm_address.html", form=form, email=address, user=user, change=True
            )
        ended = email_change.confirm_change(user, token)
    except AlreadyVerified as exc:
        db.session.rollback()
        flash(str(exc), "info")
        return redirect(url_for("accounts.profile"))
    except AccountError as exc:
        db.session.rollback()
        return render_template("accounts/link_problem.html", message=str(exc), verify=True), 400
    renewed = sessions.current_session()  # the new token's record
    db.session.commit()
    open_browser_session(user, remember=bool(renewed and renewed.remembered))
    others = f" {counted(ended, 'other device')} signed out." if ended else ""
    flash(f"Your email address is now {user.email}.{others}", "success")
    return redirect(url_for("accounts.profile"))
