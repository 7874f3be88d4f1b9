"""Account pages. Thin: forms in, services do the work, one commit per request."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from campus.accounts import bp, services
from campus.accounts.forms import (
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from campus.extensions import db, limiter


def _safe_next(target: str | None) -> str:
    """Return a same-site path to go to after login, or the home page."""
    if not target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.home")
    return target


def _start_session(user, remember: bool = False) -> None:
    # A fresh session on every login: nothing from before (or planted) survives it.
    session.clear()
    login_user(user, remember=remember)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> ResponseReturnValue:
    """Create an account and sign the new user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(
                email=form.email.data,
                password=form.password.data,
                full_name=form.full_name.data,
                profession=form.profession.data,
                license_number=form.license_number.data,
                license_state=form.license_state.data,
            )
        except services.AccountError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            _start_session(user)
            flash(
                f"Welcome to Campus, {user.first_name}! "
                f"We sent a confirmation link to {user.email}.",
                "success",
            )
            return redirect(_safe_next(request.args.get("next")))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/signup.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("The email or password is not correct.")
        else:
            db.session.commit()
            _start_session(user, remember=form.remember.data)
            flash(f"Welcome back, {user.first_name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out and forget the session."""
    EmptyForm().validate_on_submit()  # CSRF is checked globally; this keeps the form honest
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("main.home"))


@bp.get("/verify-email/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    """Confirm an email address from the emailed link."""
    try:
        user = services.verify_email(token)
    except services.AccountError as exc:
        db.session.rollback()
        return render_template("accounts/link_problem.html", message=str(exc)), 400
    db.session.commit()
    flash(f"Thank you: {user.email} is confirmed.", "success")
    return redirect(url_for("main.home"))


@bp.post("/verify-email/resend")
@login_required
def resend_verification() -> Response:
    """Send a new verification link to the signed-in user."""
    if not current_user.is_verified:
        services.send_verification_email(current_user)
        db.session.commit()
        flash(f"We sent a new confirmation link to {current_user.email}.", "info")
    return redirect(request.referrer if request.referrer else url_for("accounts.profile"))


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def request_reset() -> ResponseReturnValue:
    """Ask for a reset link; the answer never says whether the email has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/reset_sent.html", email=form.email.data)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/reset_request.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password through an emailed link."""
    try:
        services.peek_token(token, "reset_password")
    except services.AccountError as exc:
        return render_template("accounts/link_problem.html", message=str(exc)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except services.AccountError as exc:
            db.session.rollback()
            return render_template("accounts/link_problem.html", message=str(exc)), 400
        db.session.commit()
        _start_session(user)
        flash("Your password is changed and you are signed in.", "success")
        return redirect(url_for("main.home"))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/reset_password.html", form=form), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    """Edit the profile that certificates are made from."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user,
                full_name=form.full_name.data,
                profession=form.profession.data,
                license_number=form.license_number.data,
                license_state=form.license_state.data,
            )
        except services.AccountError as exc:
            db.session.rollback()
            form.profession.errors.append(str(exc))
        else:
            db.session.commit()
            flash("Your profile is saved.", "success")
            return redirect(url_for("accounts.profile"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "accounts/profile.html", form=form, password_form=ChangePasswordForm(formdata=None)
    ), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    """Change the password; other devices are signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except services.AccountError as exc:
            db.session.rollback()
            form.current_password.errors.append(str(exc))
        else:
            db.session.commit()
            # Keep this device signed in under the new session version.
            _start_session(current_user._get_current_object())
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.profile"))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/change_password.html", form=form), status
