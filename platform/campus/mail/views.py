"""One-click unsubscribe (RFC 8058): a signed link, no sign-in, no CSRF token."""

from __future__ import annotations

from flask import Blueprint, render_template

from campus.extensions import csrf, db, limiter
from campus.mail import actions
from campus.mail.services import check_unsubscribe_token
from campus.throttling import setting

bp = Blueprint("mail", __name__)


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str | tuple[str, int]:
    """Ask to confirm: a GET never unsubscribes, since mail scanners open every link."""
    email = check_unsubscribe_token(token)
    if email is None:
        return render_template("mail/unsubscribe.html", invalid=True), 400
    return render_template("mail/unsubscribe.html", email=email, token=token)


# Mail clients POST "List-Unsubscribe=One-Click" with no cookies and no CSRF token; the signed
# token in the URL is the authorization.
@bp.post("/unsubscribe/<token>", endpoint="unsubscribe")
@csrf.exempt
@limiter.limit(setting("ONE_CLICK_RATE_LIMIT"))
def unsubscribe(token: str) -> str | tuple[str, int]:
    """Take the address in the signed token off the marketing list and confirm it."""
    email = check_unsubscribe_token(token)
    if email is None:
        return render_template("mail/unsubscribe.html", invalid=True), 400
    actions.unsubscribe(email)
    db.session.commit()
    return render_template("mail/unsubscribe.html", email=email, done=True)
