"""The member's licenses page: list, add, edit and remove (every change through an action)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus.extensions import csrf, db, limiter
from campus.licenses import actions, bp
from campus.licenses.forms import ActionForm, LicenseForm
from campus.licenses.models import License
from campus.licenses.reminders import license_for_stop_token
from campus.licenses.services import get_license, licenses_for
from campus.throttling import setting


def _fields(form: LicenseForm) -> dict:
    return {
        "profession": form.profession.data,
        "jurisdiction": form.jurisdiction.data,
        "number": form.number.data,
        "expires_on": form.expires_on.data,
    }


def _show_error(form: LicenseForm, exc: actions.LicenseError) -> None:
    name = exc.field if exc.field in form else "number"
    form[name].errors = [*form[name].errors, exc.message]


def _page(form: LicenseForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "licenses/index.html",
        licenses=licenses_for(current_user.id),
        form=form,
        action_form=ActionForm(formdata=None),
    ), status


@bp.route("/account/licenses", methods=["GET", "POST"])
@login_required
def index() -> tuple[str, int] | Response:
    """List the member's licenses and add one."""
    form = LicenseForm()
    if form.validate_on_submit():
        try:
            license = actions.add_license(current_user, **_fields(form))
        except actions.LicenseError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"{license.title} is added.", "success")
            return redirect(url_for("licenses.index"))
    return _page(form, 422 if form.is_submitted() else 200)


def _own_or_404(license_id: int) -> License:
    license = get_license(current_user.id, license_id)
    if license is None:
        abort(404)
    return license


@bp.route("/account/licenses/<int:license_id>/edit", methods=["GET", "POST"])
@login_required
def edit(license_id: int) -> tuple[str, int] | Response:
    """Change one of the member's licenses."""
    license = _own_or_404(license_id)
    form = LicenseForm(obj=license)
    if form.validate_on_submit():
        try:
            actions.update_license(current_user, license.id, **_fields(form))
        except actions.LicenseError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash("The license is saved.", "success")
            return redirect(url_for("licenses.index"))
    status = 422 if form.is_submitted() else 200
    return render_template("licenses/edit.html", form=form, license=license), status


@bp.post("/account/licenses/<int:license_id>/remove")
@login_required
def remove(license_id: int) -> Response:
    """Remove one of the member's licenses."""
    license = _own_or_404(license_id)
    if not ActionForm().validate_on_submit():
        flash("The form expired. Please try again.", "error")
        return redirect(url_for("licenses.index"))
    title = license.title
    actions.remove_license(current_user, license.id)
    db.session.commit()
    flash(f"{title} is removed. Certificates already issued keep the number they show.", "success")
    return redirect(url_for("licenses.index"))


@bp.post("/account/licenses/<int:license_id>/reminders")
@login_required
def reminders(license_id: int) -> Response:
    """Switch renewal reminder emails for one license on or off."""
    license = _own_or_404(license_id)
    if not ActionForm().validate_on_submit():
        flash("The form expired. Please try again.", "error")
        return redirect(url_for("licenses.index"))
    enabled = request.form.get("enabled") == "1"
    actions.set_reminders(current_user, license.id, enabled)
    db.session.commit()
    state = "on" if enabled else "off"
    flash(f"Renewal reminders for {license.title} are {state}.", "success")
    return redirect(url_for("licenses.index"))


@bp.get("/account/licenses/reminders/stop/<token>")
def stop_page(token: str) -> tuple[str, int]:
    """Ask to confirm: a GET never changes anything, since mail scanners open every link."""
    license = license_for_stop_token(token)
    if license is None:
        return render_template("licenses/stop.html", invalid=True), 400
    return render_template("licenses/stop.html", license=license, token=token), 200


# A mail client's one-click POST (RFC 8058) carries no cookie and no CSRF token: the signed
# token in the URL is the authorization, and it can only switch reminders off.
@bp.post("/account/licenses/reminders/stop/<token>", endpoint="stop")
@csrf.exempt
@limiter.limit(setting("ONE_CLICK_RATE_LIMIT"))
def stop(token: str) -> tuple[str, int]:
    """Switch off the reminders of the license in the signed link."""
    license = license_for_stop_token(token)
    if license is None:
        return render_template("licenses/stop.html", invalid=True), 400
    actions.set_reminders(license.user, license.id, False, by_link=True)
    db.session.commit()
    return render_template("licenses/stop.html", license=license, done=True), 200
