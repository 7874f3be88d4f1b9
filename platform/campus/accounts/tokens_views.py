"""The API tokens section of the account security page: make a token (shown once), revoke one."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus.accounts import bp, tokens
from campus.accounts.access import code_checks, password_checks
from campus.accounts.forms import EmptyForm
from campus.accounts.security_forms import ApiTokenForm
from campus.accounts.security_views import _page
from campus.audit import record_refusal
from campus.extensions import db


@bp.post("/account/security/tokens")
@login_required
@password_checks
@code_checks
def create_api_token() -> tuple[str, int]:
    """Make a personal API token and show its value this once."""
    form = ApiTokenForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            token, raw = tokens.create_token(
                user,
                form.name.data or "",
                form.scope.data or "",
                form.lifetime.data or "",
                form.password.data or "",
                form.code.data or "",
            )
        except tokens.TokenError as exc:
            db.session.rollback()
            record_refusal("api_token_refused", user, exc.wrong)
            db.session.commit()  # the refusal's entry alone
            form[exc.field].errors.append(str(exc))
        else:
            db.session.commit()
            return _page(201, new_token={"name": token.name, "raw": raw, "scope": token.scope})
    return _page(422, token_form=form)


@bp.post("/account/security/tokens/<int(max=2147483647):token_id>/revoke")
@login_required
def revoke_api_token(token_id: int) -> Response:
    """Revoke one of the member's API tokens: it stops working at once."""
    if not EmptyForm().validate_on_submit():
        flash("The form expired. Please try again.", "error")
        return redirect(url_for("accounts.security", _anchor="api-tokens"))
    try:
        token = tokens.revoke_token(current_user._get_current_object(), token_id)
    except tokens.TokenError as exc:
        db.session.rollback()
        flash(str(exc), "info")
    else:
        db.session.commit()
        flash(f"The token “{token.name}” is revoked.", "success")
    return redirect(url_for("accounts.security", _anchor="api-tokens"))
