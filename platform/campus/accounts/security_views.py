"""The account security page: signed-in devices, the second factor and recovery codes."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus.accounts import bp, mfa, sessions, tokens
from campus.accounts.access import (
    code_checks,
    forget_browser_session,
    open_browser_session,
    password_checks,
    say_tokens_revoked,
)
from campus.accounts.forms import EmptyForm
from campus.accounts.security_forms import (
    ApiTokenForm,
    ConfirmTotpForm,
    DisableTotpForm,
    RecoveryCodesForm,
)
from campus.audit import record_refusal
from campus.extensions import db


def _page(status: int = 200, **forms) -> tuple[str, int]:
    """Render the security page with the given forms (and a just-made token) in place."""
    user = current_user._get_current_object()
    current = sessions.current_session()
    context = {
        "sessions": sessions.active_sessions(user),
        "current_id": current.id if current else None,
        "describe_device": sessions.describe_device,
        "button_form": EmptyForm(),
        "disable_form": forms.get("disable_form") or DisableTotpForm(formdata=None),
        "codes_form": forms.get("codes_form") or RecoveryCodesForm(formdata=None),
        "codes_left": mfa.remaining_recovery_codes(user) if user.totp_enabled else 0,
        "api_tokens": tokens.active_tokens(user),
        "token_form": forms.get("token_form") or ApiTokenForm(formdata=None),
        "new_token": forms.get("new_token"),
        "token_scopes": tokens.SCOPES,
    }
    return render_template("accounts/security.html", **context), status


def _sessions(count: int) -> str:
    return f"{count} session" if count == 1 else f"{count} sessions"


@bp.get("/account/security")
@login_required
def security() -> tuple[str, int]:
    """Show the signed-in devices and the second-factor settings."""
    return _page()


@bp.post("/account/security/sessions/<int(max=2147483647):session_id>/end")
@login_required
def end_session(session_id: int) -> Response:
    """End one of the member's sessions on another device."""
    EmptyForm().validate_on_submit()
    current = sessions.current_session()
    if current is not None and current.id == session_id:
        flash("To end this device's session, sign out.", "info")
        return redirect(url_for("accounts.security"))
    try:
        sessions.end_session(current_user._get_current_object(), session_id)
    except sessions.SessionError as exc:
        db.session.rollback()
        flash(str(exc), "info")
    else:
        db.session.commit()
        flash("That device is signed out.", "success")
    return redirect(url_for("accounts.security"))


@bp.post("/account/security/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    """End every session of the member, this one included."""
    EmptyForm().validate_on_submit()
    ended = sessions.sign_out_everywhere(current_user._get_current_object())
    db.session.commit()
    forget_browser_session()
    flash(f"You are signed out everywhere ({_sessions(ended)} ended).", "info")
    return redirect(url_for("accounts.login"))


@bp.post("/account/security/totp/start")
@login_required
def totp_start() -> Response:
    """Create a new authenticator secret waiting for its first code."""
    EmptyForm().validate_on_submit()
    try:
        mfa.begin_enrolment(current_user._get_current_object())
    except mfa.MfaError as exc:
        db.session.rollback()
        flash(str(exc), "info")
        return redirect(url_for("accounts.security"))
    db.session.commit()
    return redirect(url_for("accounts.totp_setup"))


@bp.route("/account/security/totp", methods=["GET", "POST"])
@login_required
@password_checks
def totp_setup() -> str | tuple[str, int] | Response:
    """Show the QR code of the waiting secret; turn TOTP on with the password and a code."""
    user = current_user._get_current_object()
    secret = user.totp_pending_secret
    if user.totp_enabled or not secret:
        return redirect(url_for("accounts.security"))
    form = ConfirmTotpForm()
    if form.validate_on_submit():
        try:
            codes, revoked = mfa.confirm_enrolment(user, form.code.data, form.password.data)
        except mfa.MfaError as exc:
            db.session.rollback()
            record_refusal("mfa_enable_refused", user, exc.wrong)
            db.session.commit()  # the refusal's entry alone
            form[exc.field].errors.append(str(exc))
        else:
            renewed = sessions.current_session()  # the new token's record
            db.session.commit()
            # The browser drops the token from before the second factor for the new one.
            open_browser_session(user, remember=bool(renewed and renewed.remembered))
            say_tokens_revoked(revoked)
            return render_template("accounts/security_codes.html", codes=codes, first=True)
    uri = mfa.provisioning_uri(user, secret)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "accounts/security_totp.html",
        form=form,
        qr=mfa.qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    ), status


@bp.post("/account/security/totp/disable")
@login_required
@password_checks
@code_checks
def totp_disable() -> tuple[str, int] | Response:
    """Turn the second factor off with the password and a code."""
    form = DisableTotpForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            mfa.disable(user, form.password.data, form.code.data)
        except mfa.MfaError as exc:
            db.session.rollback()
            record_refusal("mfa_disable_refused", user, exc.wrong)
            db.session.commit()  # the refusal's entry alone
            form[exc.field].errors.append(str(exc))
        else:
            db.session.commit()
            flash("The second factor is off. Your password alone now signs you in.", "info")
            return redirect(url_for("accounts.security"))
    return _page(422, disable_form=form)


@bp.post("/account/security/recovery-codes")
@login_required
@password_checks
@code_checks
def recovery_codes() -> str | tuple[str, int]:
    """Replace the recovery codes (password and a code required) and show the new ones once."""
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            codes = mfa.regenerate_recovery_codes(user, form.password.data, form.code.data)
        except mfa.MfaError as exc:
            db.session.rollback()
            record_refusal("recovery_codes_refused", user, exc.wrong)
            db.session.commit()  # the refusal's entry alone
            form[exc.field].errors.append(str(exc))
        else:
            db.session.commit()
            return render_template("accounts/security_codes.html", codes=codes, first=False)
    return _page(422, codes_form=form)
