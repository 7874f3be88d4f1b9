"""Library, article pages, the Atom feed and free downloads. Thin: services do the work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from campus.content import bp, cache, downloads, services
from campus.content.access import (
    ANONYMOUS,
    Reader,
    current_reader,
    may_read_full,
    visible_html,
    visible_text,
)
from campus.content.disclaimer import TEXT as DISCLAIMER_TEXT
from campus.content.disclaimer import VERSION as DISCLAIMER_VERSION
from campus.content.forms import DownloadForm
from campus.content.search import snippet
from campus.extensions import db, limiter
from campus.integers import query_int
from campus.models.base import utcnow
from campus.urls import public_url, requested_path
from campus.xmltext import xml_text


def _slug_arg(name: str) -> str | None:
    """Read a slug filter; anything that is not a slug matches nothing rather than erroring."""
    value = request.args.get(name, "")[:80]
    if not value:
        return None
    return value if services.slugify(value) == value else "-"


def _page_arg() -> int:
    return query_int("page", 1, maximum=999_999)


def _download_limit() -> str:
    return current_app.config.get("DOWNLOAD_RATE_LIMIT", "5 per minute;30 per hour")


def membership_url() -> str:
    """Where "become a member" goes: the membership page when billing is installed."""
    if "billing.membership" in current_app.view_functions:
        return url_for("billing.membership")
    return url_for("accounts.signup")


def call_to_action(visibility: str, reader: Reader) -> dict[str, str]:
    """Say what this reader needs to do to read the rest, in their situation."""
    article_url = requested_path(query=False)
    if not reader.signed_in:
        if visibility == "members":
            return {
                "title": "Keep reading with a free account",
                # Named as the library's badge names them: "members' article" was ungrammatical
                # and read as the paid articles, which a free account does not open.
                "text": "This article is free for everyone with a Campus account. Creating one "
                "takes a minute and opens every free-account article in the library.",
                "primary_label": "Create a free account",
                "primary_url": url_for("accounts.signup", next=article_url),
                "secondary_label": "Log in",
                "secondary_url": url_for("accounts.login", next=article_url),
            }
        return {
            "title": "This article is for Campus members",
            "text": "Create a free account, then become a member to read every article in the "
            "library and take every CE course.",
            "primary_label": "Create a free account",
            "primary_url": url_for("accounts.signup", next=article_url),
            "secondary_label": "Log in",
            "secondary_url": url_for("accounts.login", next=article_url),
        }
    from campus.billing.access import payment_hold

    hold = payment_hold(current_user)
    if hold is not None and hold.kind == "first_payment":
        return {
            "title": hold.title,
            "text": "Your membership starts, with the rest of this article and the whole "
            "library, as soon as your first payment goes through. If your bank asks you to "
            "confirm it, finish it in the billing portal; a bank debit can take a few days "
            "to clear.",
            "primary_label": hold.action,
            "primary_url": membership_url(),
        }
    if hold is not None and hold.kind == "unpaid":
        return {
            "title": hold.title,
            "text": "Update your payment details to read the rest of this article and the "
            "whole library again.",
            "primary_label": hold.action,
            "primary_url": membership_url(),
        }
    if hold is not None and hold.kind == "paused":
        return {
            "title": hold.title,
            "text": "Your trial ended without a card to charge. Join again to read the rest of "
            "this article and the whole library. Your course progress and certificates are "
            "still yours.",
            "primary_label": hold.action,
            "primary_url": membership_url(),
        }
    if hold is not None:
        return {
            "title": hold.title,
            "text": "Renew your membership to read the rest of this article and the whole "
            "library again. Your course progress and certificates are still yours.",
            "primary_label": hold.action,
            "primary_url": membership_url(),
        }
    return {
        "title": "Read the rest as a member",
        "text": "Members read every article in the library and take every CE course.",
        "primary_label": "Become a member",
        "primary_url": membership_url(),
    }


@bp.get("/articles/")
def library() -> str:
    """List the articles with filters, search and pagination."""
    reader = current_reader()
    q = request.args.get("q", "")
    category = _slug_arg("category")
    tag = _slug_arg("tag")
    page = services.library_page(reader, q=q, category=category, tag=tag, page=_page_arg())
    categories, tags = services.categories_in_use(reader), services.tags_in_use(reader)
    # An address that lists nothing because it names nothing is a missing page, not an empty
    # library (crawlers would index it, and readers would think there are no articles).
    if category and category not in {c.slug for c in categories}:
        abort(404, "There are no articles in a body region of that name.")
    if tag and tag not in {t.slug for t in tags}:
        abort(404, "There are no articles about a muscle of that name.")
    if page.total and page.page > page.pages:
        abort(404, f"The articles end on page {page.pages}.")
    snippets = {}
    if page.terms:
        snippets = {a.id: snippet(visible_text(a, reader), page.terms) for a in page.items}
    return render_template(
        "content/library.html",
        page=page,
        q=q[:200],
        category=category,
        tag=tag,
        categories=categories,
        tags=tags,
        snippets=snippets,
        reader=reader,
        may_read_full=may_read_full,
        download=downloads.featured_download(cache.current_version()),
    )


@bp.get("/articles/feed.atom")
def feed() -> Response:
    """Serve the Atom feed of published articles; gated ones carry their preview only."""
    articles = services.feed_articles()
    entries = [(a, *visible_html(a, ANONYMOUS)) for a in articles]
    updated = max((a.updated_at for a in articles), default=None) or utcnow()
    body = render_template("content/feed.xml", entries=entries, updated=updated)
    # XML 1.0 has no way to write most control characters, not even escaped: one pasted into an
    # article's body or summary would make the whole feed a document no reader accepts.
    response = make_response(xml_text(body))
    response.mimetype = "application/atom+xml"
    return response


@dataclass(frozen=True)
class Named:
    """A region or muscle as the page shows it."""

    slug: str
    name: str


@dataclass(frozen=True)
class ArticleView:
    """What one kind of reader sees of an article: safe to cache for that kind of reader."""

    slug: str
    title: str
    summary: str
    description: str
    visibility: str
    status: str
    author_name: str
    published_at: datetime | None
    updated_at: datetime
    reading_minutes: int
    category: Named | None
    tags: tuple[Named, ...]
    related: tuple[tuple[str, str, str], ...]  # (slug, title, visibility)
    body_html: str
    whole: bool


def _article_view(slug: str, reader: Reader) -> ArticleView | None:
    item = services.article_for(slug, reader)
    if item is None:
        return None
    body_html, whole = visible_html(item, reader)
    return ArticleView(
        slug=item.slug,
        title=item.title,
        summary=item.summary,
        description=item.summary or item.preview_text,
        visibility=item.visibility,
        status=item.status,
        author_name=item.author_name,
        published_at=item.published_at,
        updated_at=item.updated_at,
        reading_minutes=item.reading_minutes,
        category=Named(item.category.slug, item.category.name) if item.category else None,
        tags=tuple(Named(t.slug, t.name) for t in item.tags),
        related=tuple(
            (r.slug, r.title, r.visibility) for r in services.related_articles(item, reader)
        ),
        body_html=body_html,
        whole=whole,
    )


@bp.get("/articles/<slug>")
def article(slug: str) -> str:
    """Show an article: all of it to readers with access, the preview and a way in to others."""
    reader = current_reader()
    version = cache.current_version()
    # Anonymous pages carry nothing personal (no cookie, no token) unless a message is waiting.
    whole_page = not reader.signed_in and "_flashes" not in session and version is not None
    # Its links start with the script root it was asked under (the site may be mounted twice).
    page_key = ("page", slug, request.script_root)
    if whole_page:
        page = cache.get(page_key, version)
        if page is not None:
            return page
    # Keyed by what decides access, so a view is only ever reused for the same kind of reader.
    key = ("article", slug, reader.signed_in, reader.paid, reader.admin)
    view = cache.get(key, version) if version is not None else None
    if view is None:
        view = _article_view(slug, reader)
        if view is None:
            abort(404)
        if version is not None:
            cache.put(key, view, version)
    context = {
        "article": view,
        "body_html": view.body_html,
        "whole": view.whole,
        "cta": None if view.whole else call_to_action(view.visibility, reader),
        "related": view.related,
        "disclaimer_text": DISCLAIMER_TEXT,
        "disclaimer_version": DISCLAIMER_VERSION,
        "canonical": public_url("content.article", slug=view.slug),
        "download": downloads.featured_download(version),
    }
    if view.whole and version is not None:
        # Everyone who reads the whole text sees the same article: only the page's header
        # (their name, their form token) is theirs, so the article part is rendered once.
        parts_key = (*key, "parts", request.script_root)
        parts = cache.get(parts_key, version)
        if parts is None:
            parts = (
                Markup(render_template("content/_article_meta.html", **context)),
                Markup(render_template("content/_article_main.html", **context)),
            )
            cache.put(parts_key, parts, version)
        context["meta_html"], context["main_html"] = parts
    page = render_template("content/article.html", **context)
    if whole_page:
        cache.put(page_key, page, version)
    return page


@bp.route("/articles/downloads/<slug>", methods=["GET", "POST"])
@limiter.limit(_download_limit, methods=["POST"])
def download(slug: str) -> str | tuple[str, int]:
    """Ask for name, email and optional marketing consent, then email a link to the file."""
    item = downloads.active_download(slug)
    if item is None:
        abort(404)
    form = DownloadForm()
    if form.validate_on_submit():
        downloads.request_download(
            item, name=form.name.data, email=form.email.data, marketing=form.marketing.data
        )
        db.session.commit()
        return render_template(
            "content/download_sent.html", download=item, email=form.email.data.strip().lower()
        )
    status = 422 if form.is_submitted() else 200
    return render_template("content/download.html", download=item, form=form), status


@bp.get("/articles/downloads/<slug>/file/<token>")
def download_file(slug: str, token: str) -> BaseResponse | tuple[str, int]:
    """Send the file to someone holding a valid, unexpired link."""
    item = downloads.active_download(slug)
    if item is None:
        abort(404)
    try:
        downloads.check_download_token(item, token)
    except services.ContentError as exc:
        form = DownloadForm()
        return render_template(
            "content/download.html", download=item, form=form, link_problem=str(exc)
        ), 400
    response = downloads.file_response(item)
    if response is None:
        abort(404)
    return response
