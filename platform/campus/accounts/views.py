"""Account pages. Thin: forms in, services do the work, one commit per request."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus.accounts import bp, confirmation, mfa, reset, services, sessions
from campus.accounts.access import (
    end_this_session,
    open_browser_session,
    password_checks,
    say_tokens_revoked,
)
from campus.accounts.forms import (
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from campus.accounts.models import User
from campus.accounts.security_forms import CodeForm
from campus.audit import record, record_refusal
from campus.extensions import db, limiter
from campus.observability.metrics import LOGINS_FAILED
from campus.throttling import by_account, by_address, by_user, failed, refused, setting
from campus.urls import referrer_path, safe_local_path

# Where a sign-in waiting for its second-factor code keeps its token and destination.
_CHALLENGE_KEY = "login_challenge"
_NEXT_KEY = "login_next"

# One budget of failures per address for both steps of a sign-in (the password and the code):
# a limit per endpoint would give an address that spent its password guesses as many again
# for codes.
_login_address_limit = limiter.shared_limit(
    setting("LOGIN_ADDRESS_RATE_LIMIT"),
    scope="login-address",
    key_func=by_address,
    methods=["POST"],
    deduct_when=failed,
)


def _safe_next(target: str | None) -> str:
    """Return a same-site path to go to after login, or the home page."""
    return safe_local_path(target, url_for("main.home"))


def _signed_in_to(user, target: str) -> Response:
    """Send a member who just signed in on to their page, greeted unless it greets them."""
    if target != url_for("main.home"):  # the home page's heading already says "Welcome"
        flash(f"Welcome back, {user.first_name}.", "success")
    return redirect(target)


@bp.before_app_request
def _load_session_first() -> None:
    # Load the signed-in user before the view writes anything: the loader may record the
    # session's last-seen time on its own short transaction.
    if request.endpoint == "static":
        return
    if not current_user.is_authenticated and g.get("session_ended"):
        # The cookies name a session that is over: drop them so later requests skip the lookup.
        session.pop("_user_id", None)
        if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
            session["_remember"] = "clear"


# Set in the signing-up browser's session whether or not the address was new (same shape).
_SIGNUP_BINDING = "signup_binding"
# Where the sign-up started (an article's paywall, a course): the confirmation link opened in
# that browser signs in and returns there.
_SIGNUP_NEXT = "signup_next"


def _show_error(form, exc: services.AccountError, default: str) -> None:
    """Put a service's message under the field it is about."""
    name = exc.field if exc.field in form else default
    form[name].errors.append(str(exc))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(setting("SIGNUP_RATE_LIMIT"), key_func=by_address, methods=["POST"])
def signup() -> str | tuple[str, int] | Response:
    """Create an account, or warn the address's owner; the answer is the same either way."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            binding = services.register_user(
                email=form.email.data,
                password=form.password.data,
                full_name=form.full_name.data,
                profession=form.profession.data,
            )
        except services.AccountError as exc:
            db.session.rollback()
            _show_error(form, exc, "email")
        else:
            db.session.commit()
            session[_SIGNUP_BINDING] = binding
            if next_page := request.args.get("next"):
                session[_SIGNUP_NEXT] = _safe_next(next_page)
            email = services.normalize_email(form.email.data)
            return render_template("accounts/signup_sent.html", email=email)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/signup.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@_login_address_limit
@limiter.limit(
    setting("LOGIN_ACCOUNT_RATE_LIMIT"), key_func=by_account, methods=["POST"], deduct_when=failed
)
def login() -> str | tuple[str, int] | Response:
    """Sign in with email and password (then the code, when the account has a second factor)."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            _record_failed_sign_in(form.email.data)
            db.session.commit()
            form.password.errors.append("The email or password is not correct.")
        elif user.totp_enabled:
            raw = mfa.start_challenge(user, remember=bool(form.remember.data))
            db.session.commit()
            session.clear()
            session[_CHALLENGE_KEY] = raw
            session[_NEXT_KEY] = _safe_next(request.args.get("next"))
            return redirect(url_for("accounts.login_verify"))
        else:
            sessions.sign_in(user, method="password", remember=bool(form.remember.data))
            db.session.commit()
            open_browser_session(user, remember=bool(form.remember.data))
            return _signed_in_to(user, _safe_next(request.args.get("next")))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form), status


def _record_failed_sign_in(email: str) -> None:
    # Never the password, and never the typed text when it matches no account (it may be one).
    LOGINS_FAILED.labels("password").inc()
    user = services.get_user_by_email(email)
    if user is None:
        record("sign_in_failed", object_type="User", summary="unknown email", actor=None)
    else:
        record("sign_in_failed", user, summary=f"{user.email}: password not accepted", actor=None)


@bp.route("/login/verify", methods=["GET", "POST"])
@_login_address_limit
def login_verify() -> str | tuple[str, int] | Response:
    """Ask for the second-factor code of a sign-in whose password was right."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    challenge = mfa.open_challenge(session.get(_CHALLENGE_KEY))
    if challenge is None:
        session.pop(_CHALLENGE_KEY, None)
        flash("Please sign in again.", "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        remember = challenge.remember
        try:
            user = mfa.complete_challenge(challenge, form.code.data)
        except mfa.ChallengeFailed as exc:
            db.session.commit()  # the failure counts, so the next guess is one fewer
            refused()  # against the address's budget too, even when it answers with a redirect
            if exc.restart:
                session.pop(_CHALLENGE_KEY, None)
                flash(str(exc), "error")
                return redirect(url_for("accounts.login"))
            form.code.errors.append(str(exc))
        else:
            target = session.get(_NEXT_KEY)
            sessions.sign_in(user, method="password", remember=remember, second_factor=True)
            db.session.commit()
            open_browser_session(user, remember=remember)
            return _signed_in_to(user, _safe_next(target))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/login_verify.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out: this device's session ends on the server and its cookies are cleared."""
    EmptyForm().validate_on_submit()  # CSRF is checked globally; this keeps the form honest
    if current_user.is_authenticated:
        end_this_session()
    else:
        session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("main.home"))


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> str | tuple[str, int] | Response:
    """Show whose address the emailed link confirms; its button confirms (and may sign in)."""
    form = EmptyForm()
    try:
        if not form.validate_on_submit():
            # Opening the link changes nothing: mail scanners open every link in a message.
            user = confirmation.pending_user(token)
            return render_template(
                "accounts/confirm_address.html", form=form, email=user.email, user=user
            )
        user, sign_in = confirmation.verify_email(token, session.get(_SIGNUP_BINDING))
    except services.AlreadyVerified as exc:
        db.session.rollback()
        flash(_already_confirmed(exc), "info")
        if current_user.is_authenticated:
            return redirect(url_for("main.home"))
        return redirect(url_for("accounts.login"))
    except services.AccountError as exc:
        db.session.rollback()
        return render_template("accounts/link_problem.html", message=str(exc), verify=True), 400
    db.session.commit()
    if sign_in and not current_user.is_authenticated:
        target = _safe_next(session.get(_SIGNUP_NEXT))
        sessions.sign_in(user, method="confirmation_link")
        db.session.commit()
        open_browser_session(user)  # a fresh session: the sign-up keys go with the old one
        # The page it lands on greets the member by name, or is the one they signed up from.
        flash("Your email is confirmed.", "success")
        return redirect(target)
    flash(f"Thank you: {user.email} is confirmed.{_still_signed_in_as(user)}", "success")
    return redirect(url_for("main.home"))


def _still_signed_in_as(user: User) -> str:
    """Say which account stays signed in when the confirmed address is another account's."""
    if current_user.is_authenticated and current_user.id != user.id:
        return f" You are still signed in as {current_user.email}."
    return ""


def _already_confirmed(exc: services.AlreadyVerified) -> str:
    """Say the link's address is confirmed, without calling it this account's when it is not."""
    if current_user.is_authenticated and current_user.id != exc.user_id:
        return f"That address is already confirmed. You are signed in as {current_user.email}."
    return str(exc)


@bp.post("/verify-email/resend")
@login_required
@limiter.limit(setting("VERIFY_RESEND_RATE_LIMIT"), key_func=by_user)
def resend_verification() -> Response:
    """Send a new verification link to the signed-in user."""
    if not current_user.is_verified:
        services.send_verification_email(current_user)
        db.session.commit()
        flash(f"We sent a new confirmation link to {current_user.email}.", "info")
    # Back to the page the button was on; a Referer naming another site is not followed.
    return redirect(referrer_path(url_for("accounts.profile")))


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(setting("RESET_RATE_LIMIT"), key_func=by_address, methods=["POST"])
def request_reset() -> str | tuple[str, int] | Response:
    """Ask for a reset link; the answer never says whether the email has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        try:
            reset.request_password_reset(form.email.data)
        except services.AccountError as exc:
            form.email.errors.append(str(exc))
            return render_template("accounts/reset_request.html", form=form), 503
        return render_template("accounts/reset_sent.html", email=form.email.data)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/reset_request.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(setting("RESET_RATE_LIMIT"), key_func=by_address, methods=["POST"])
def reset_password(token: str) -> str | tuple[str, int] | Response:
    """Choose a new password through an emailed link."""
    try:
        services.peek_token(token, "reset_password")
    except services.AccountError as exc:
        return render_template("accounts/link_problem.html", message=str(exc)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user, revoked = reset.reset_password(token, form.password.data)
        except services.AccountError as exc:
            db.session.rollback()
            if exc.field != "password":
                return render_template("accounts/link_problem.html", message=str(exc)), 400
            form.password.errors.append(str(exc))
            return render_template("accounts/reset_password.html", form=form), 422
        if user.totp_enabled:
            # The link proves the inbox, not the second factor: sign in with both.
            db.session.commit()
            session.clear()
            flash("Your password is changed. Sign in with it and your code.", "success")
            say_tokens_revoked(revoked)
            return redirect(url_for("accounts.login"))
        sessions.sign_in(user, method="reset_link")
        db.session.commit()
        open_browser_session(user)
        flash("Your password is changed and you are signed in.", "success")
        say_tokens_revoked(revoked)
        return redirect(url_for("main.home"))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/reset_password.html", form=form), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> str | tuple[str, int] | Response:
    """Edit the profile that certificates are made from."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user,
                full_name=form.full_name.data,
                profession=form.profession.data,
            )
        except services.AccountError as exc:
            db.session.rollback()
            _show_error(form, exc, "full_name")
        else:
            db.session.commit()
            flash("Your profile is saved.", "success")
            return redirect(url_for("accounts.profile"))
    status = 422 if form.is_submitted() else 200
    from campus.licenses.services import licenses_for

    return render_template(
        "accounts/profile.html",
        form=form,
        password_form=ChangePasswordForm(formdata=None),
        licenses=licenses_for(current_user.id),
    ), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@password_checks
def change_password() -> str | tuple[str, int] | Response:
    """Change the password; other devices are signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            revoked = services.change_password(user, form.current_password.data, form.password.data)
        except services.AccountError as exc:
            db.session.rollback()
            record_refusal("password_change_refused", user, exc.wrong)
            db.session.commit()  # the refusal's entry alone
            _show_error(form, exc, "current_password")
        else:
            renewed = sessions.current_session()  # the new token's record
            db.session.commit()
            open_browser_session(user, remember=bool(renewed and renewed.remembered))
            flash("Your password is changed. Other devices have been signed out.", "success")
            say_tokens_revoked(revoked)
            return redirect(url_for("accounts.profile"))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/change_password.html", form=form), status
