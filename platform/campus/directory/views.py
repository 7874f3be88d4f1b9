"""Directory pages: search, profiles, the relayed contact form and the member's own profile."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from campus.directory import actions, bp, contact, credentials, geo, photos, services, taxonomy
from campus.directory import search as finder
from campus.directory.forms import ContactForm, ProfileForm
from campus.directory.jsonld import profile_jsonld
from campus.directory.models import DirectoryProfile
from campus.extensions import db, limiter
from campus.integers import query_int
from campus.throttling import by_address, by_user, mark_succeeded, setting, succeeded

RADIUS_CHOICES = (5, 10, 25, 50, 100)


def _by_profile() -> str:
    """Key the contact limit on the practitioner written to, whoever writes."""
    return "directory-profile:" + str((request.view_args or {}).get("slug", ""))[:80]


def _arg(name: str) -> str | None:
    return request.args.get(name, "")[:80] or None


@bp.get("/directory/")
def index():
    """Search the directory by ZIP code and distance, specialty, profession and credential."""
    zip_code = request.args.get("zip", "")[:12].strip()
    radius = request.args.get("radius", "")[:8]
    filters = {
        "specialty": _arg("specialty"),
        "profession": _arg("profession"),
        "credential": _arg("credential"),
    }
    result, error = None, None
    if zip_code:
        try:
            page = query_int("page", 1, maximum=finder.MAX_PAGE)
            result = finder.search(
                finder.build_query(zip_code, radius or None, page=page, **filters),
                # A HEAD (a link checker, a crawler's probe) shows the results to no one.
                count_impressions=request.method == "GET",
            )
        except geo.LocationError as exc:
            error = str(exc)
        if result is not None and result.total and page > result.pages:
            abort(404, f"The results end on page {result.pages}.")
    html = render_template(
        "directory/index.html",
        zip_code=zip_code,
        radius=radius or "25",
        radius_choices=RADIUS_CHOICES,
        filters=filters,
        specialties=taxonomy.specialties(),
        professions=taxonomy.professions(),
        credential_choices=credentials.credential_choices(),
        result=result,
        error=error,
        nav_section="directory",
    )
    return html, 422 if error else 200


def _profile_page(
    slug: str, form: ContactForm | None = None, status: int = 200, notice: str | None = None
):
    profile = services.listed_profile(slug)
    if profile is None:
        abort(404, "There is no published profile at this address.")
    badges = credentials.live_badges(profile.user_id)
    if form is None:
        form = ContactForm()
        form.stamp.data = contact.form_stamp(profile.id)
    else:
        form.stamp.data = contact.restamp(form.stamp.data or "", profile.id)
    form.homepage.data = ""
    return render_template(
        "directory/profile.html",
        profile=profile,
        badges=badges,
        form=form,
        jsonld=profile_jsonld(profile, badges),
        specialty_label=taxonomy.specialty_label,
        specialty_names=[taxonomy.specialty_label(k) for k in profile.specialty_keys],
        profession_names=[taxonomy.profession_label(k) for k in profile.profession_keys],
        photo_name=photos.file_name(profile.photo_key),
        notice=notice,
        nav_section="directory",
    ), status


@bp.get("/directory/<slug>")
def profile(slug: str):
    """Show a published profile with its live badges and the contact form."""
    return _profile_page(slug)


@bp.post("/directory/<slug>/contact")
@limiter.limit(setting("CONTACT_ADDRESS_RATE_LIMIT"), key_func=by_address)
# The practitioner's budget counts the messages they are sent: refused forms and robots
# (kept out, nothing stored) spent it too, and turned real clients away for the day.
@limiter.limit(setting("CONTACT_PROFILE_RATE_LIMIT"), key_func=_by_profile, deduct_when=succeeded)
def send_message(slug: str):
    """Take a client's message for the practitioner; the worker relays it by email."""
    profile = services.listed_profile(slug)
    if profile is None:
        abort(404, "There is no published profile at this address.")
    form = ContactForm()
    if not form.validate_on_submit():
        if not form.csrf_token.errors:
            # The form's own checks stop nothing else: every bad field is named at once.
            problems = contact.message_problems(
                form.name.data or "", form.email.data or "", form.message.data or ""
            )
            _show_errors(form, problems)
        return _profile_page(slug, form, 422)
    try:
        actions.send_message(
            profile,
            form.name.data or "",
            form.email.data or "",
            form.message.data or "",
            honeypot=form.homepage.data or "",
            stamp=form.stamp.data or "",
        )
        db.session.commit()
        mark_succeeded()
    except contact.LooksAutomated:
        db.session.rollback()  # a robot is told what a person would be, and nothing is kept
    except services.DirectoryError as exc:
        db.session.rollback()
        status = exc.status if exc.status != 400 else 422
        if _show_errors(form, exc.errors):
            return _profile_page(slug, form, status)
        # Said in the contact box, where the page opens (#contact), not at the top of the page.
        return _profile_page(slug, form, status, notice=exc.message)
    flash(
        f"Your message is on its way to {profile.display_name}. They will reply to your email.",
        "contact",  # shown in the contact box, where the page opens
    )
    return redirect(url_for("directory.profile", slug=slug) + "#contact")


@bp.get("/directory/photos/<name>")
def photo(name: str) -> Response:
    """Send a profile photo: anyone for a listed profile, the owner for their own."""
    key = photos.key_for(name)
    if key is None:
        abort(404)
    owner = db.session.scalar(select(DirectoryProfile).where(DirectoryProfile.photo_key == key))
    if owner is None:
        abort(404)
    mine = current_user.is_authenticated and owner.user_id == current_user.id
    if not (owner.is_listed or mine):
        abort(404)
    response = Response(mimetype="image/jpeg")
    if owner.is_listed:
        # Cached anywhere, but asked about again on every use: hiding or unpublishing a profile
        # takes its photo down at once, and an unchanged photo costs a 304, not its bytes.
        response.headers["Cache-Control"] = "public, no-cache"
        response.set_etag(key)
        # The key names one photo for good: a browser holding it is answered before the file
        # is fetched (an S3 request or two for every photo on every directory page otherwise).
        if request.if_none_match.contains_weak(key):
            response.make_conditional(request)
            return response
    data = photos.read(key)
    if data is None:
        abort(404)
    response.set_data(data)
    if owner.is_listed:
        response.make_conditional(request)
    return response


def _form_data(form: ProfileForm) -> services.ProfileData:
    return services.ProfileData(
        display_name=form.display_name.data or "",
        zip_code=form.zip_code.data or "",
        practice_name=form.practice_name.data or "",
        street=form.street.data or "",
        show_street=bool(form.show_street.data),
        bio=form.bio.data or "",
        website=form.website.data or "",
        phone=form.phone.data or "",
        accepting_clients=bool(form.accepting_clients.data),
        contact_enabled=bool(form.contact_enabled.data),
        specialties=list(form.specialties.data or []),
        professions=list(form.professions.data or []),
    )


def _show_errors(form: ProfileForm | ContactForm, errors: dict[str, str]) -> bool:
    """Put each error under its field (one the form refused already keeps its own message)."""
    shown = False
    for name, message in errors.items():
        if name in form:
            shown = True
            if not form[name].errors:
                form[name].errors = [message]
    return shown


def _stored_form(user, profile) -> ProfileForm:
    """The profile form filled from what is saved (a new one starts from the account)."""
    form = ProfileForm(obj=profile) if profile else ProfileForm()
    if profile is not None:
        form.specialties.data = profile.specialty_keys
        form.professions.data = profile.profession_keys
    else:
        form.display_name.data = user.full_name
        form.professions.data = [user.profession] if user.profession != "other" else []
    return form


def _edit_page(form: ProfileForm, profile, status: int = 200, notice: str | None = None):
    return render_template(
        "directory/edit.html",
        form=form,
        profile=profile,
        notice=notice,
        photo_name=photos.file_name(profile.photo_key) if profile else None,
        nav_section="directory",
    ), status


@bp.route("/directory/me", methods=["GET", "POST"])
@login_required
@limiter.limit(setting("PROFILE_SAVE_RATE_LIMIT"), key_func=by_user, methods=["POST"])
def edit():
    """Let a member write, save and preview their directory profile."""
    user = current_user._get_current_object()
    profile = services.profile_of(user.id)
    if request.method != "POST":  # GET, and HEAD, which must answer as GET does
        return _edit_page(_stored_form(user, profile), profile)
    form = ProfileForm()
    upload = form.photo.data
    photo_bytes = upload.read(photos.MAX_PHOTO_BYTES + 1) if upload and upload.filename else None
    if not form.validate_on_submit():
        if not form.csrf_token.errors:
            # The form's own checks stop nothing else: every bad field is named at once.
            published = services.is_published(profile)
            _show_errors(
                form, actions.problems_of(_form_data(form), photo_bytes, published=published)
            )
        return _edit_page(form, profile, 422)
    try:
        actions.save_profile(
            user, _form_data(form), photo=photo_bytes, remove_photo=bool(form.remove_photo.data)
        )
        db.session.commit()
    except services.DirectoryError as exc:
        db.session.rollback()
        # Said in the form, where the page opens (#profile-form), not at the top of the page.
        notice = None if _show_errors(form, exc.errors) else exc.message
        return _edit_page(form, services.profile_of(user.id), 422, notice)
    saved = services.profile_of(user.id)
    if saved is not None and saved.is_listed:
        flash("Your profile is saved; the directory shows the changes now.", "success")
    else:
        flash("Your profile is saved. It stays private until you publish it.", "success")
    # At the messages (#main): without a fragment of its own the browser keeps #profile-form.
    return redirect(url_for("directory.edit") + "#main")


@bp.post("/directory/me/publish")
@login_required
def publish():
    """Publish the member's profile in the directory."""
    user = current_user._get_current_object()
    try:
        actions.publish_profile(user)
        db.session.commit()
    except services.DirectoryError as exc:
        db.session.rollback()
        profile = services.profile_of(user.id)
        form = _stored_form(user, profile)
        # A field still missing is said under that field (Specialties), where it is filled in.
        if profile is not None and _show_errors(form, exc.errors):
            return _edit_page(form, profile, exc.status)
        flash(exc.message, "error")
        return redirect(url_for("directory.edit"))
    flash("Your profile is published in the directory.", "success")
    return redirect(url_for("directory.edit"))


@bp.post("/directory/me/unpublish")
@login_required
def unpublish():
    """Take the member's profile off the directory."""
    return _change_listing(
        actions.unpublish_profile, "Your profile is hidden: nobody else can see it now."
    )


def _change_listing(change, done: str):
    try:
        change(current_user._get_current_object())
        db.session.commit()
        flash(done, "success")
    except services.DirectoryError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("directory.edit"))


@bp.get("/directory/sitemap.xml")
def sitemap() -> Response:
    """List every published profile for search engines."""
    body = render_template("directory/sitemap.xml", entries=services.published_slugs())
    return Response(body, mimetype="application/xml")


@bp.get("/robots.txt")
def robots() -> Response:
    """Point crawlers at the directory's sitemap; keep them out of private pages."""
    body = render_template("directory/robots.txt")
    return Response(body, mimetype="text/plain")
