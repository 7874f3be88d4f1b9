"""The member's licenses page: list, add, edit and remove (every change through an action)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from campus.licenses import bp
from campus.licenses.services import licenses_for


@bp.route("/account/licenses")
@login_required
def index() -> str:
    """List the member's licenses."""
    return render_template("licenses/index.html", licenses=licenses_for(current_user.id))
