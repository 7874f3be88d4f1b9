"""Free downloads and their leads: the files, signed links, requests and the promo."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from flask import current_app, redirect
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from campus.accounts.addresses import normalize_email
from campus.cache import app_cache
from campus.content.models import Download, Lead
from campus.content.services import ContentError, slugify
from campus.extensions import db
from campus.models.base import utcnow
from campus.storage import check_key, get_storage, send
from campus.urls import public_url

# Marketing consent, asked apart from the download (which is sent either way).
CONSENT_TEXT = (
    "Also send me occasional emails from Campus about trigger-point therapy. "
    "Each one has a one-click unsubscribe link."
)


def storage_key(filename: str) -> str:
    """The key a download's file is stored under (ValueError for a name that is not plain)."""
    return check_key(f"downloads/{filename}")


def store_file(filename: str, data: bytes) -> None:
    """Store a download's PDF under its file name."""
    get_storage().save(storage_key(filename), data, "application/pdf")


def active_download(slug: str) -> Download | None:
    """Return the active download with this slug."""
    if slugify(slug) != slug:
        return None
    return db.session.scalar(
        select(Download).where(Download.slug == slug[:120], Download.active.is_(True))
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="campus.content.download")


def download_token(download: Download, email: str) -> str:
    """Sign a download link for one email address."""
    return _serializer().dumps({"d": download.id, "e": email})


def check_download_token(download: Download, token: str) -> str:
    """Return the email a valid, unexpired link was sent to, or raise ContentError."""
    max_age = current_app.config.get("DOWNLOAD_LINK_MAX_AGE", 7 * 24 * 3600)
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise ContentError("This download link has expired. Ask for a new one below.") from None
    except BadSignature:
        raise ContentError("This download link is not valid. Ask for a new one below.") from None
    if not isinstance(data, dict) or data.get("d") != download.id:
        raise ContentError("This download link is for another file.")
    return str(data.get("e", ""))


def request_download(download: Download, *, name: str, email: str, marketing: bool = False) -> Lead:
    """Record the request (once per email and download) and email a signed, expiring link.

    The guide is sent whatever the answer; only a ticked `marketing` box adds the address to
    the marketing list, and a later unticked request does not withdraw an earlier yes.
    """

    from campus.mail.services import queue_email

    email = normalize_email(email)  # as accounts store it: one mailbox, one lead
    name = name.strip()
    now = utcnow()
    lead = db.session.scalar(
        select(Lead).where(Lead.download_id == download.id, Lead.email == email)
    )
    if lead is None:
        lead = Lead(
            download_id=download.id,
            email=email,
            name=name,
            marketing=marketing,
            consent_text=CONSENT_TEXT if marketing else "",
            asked_at=now,
            consented_at=now if marketing else None,
            last_requested_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(lead)
        except IntegrityError:
            # The same address asked at the same moment from another request.
            lead = db.session.scalars(
                select(Lead).where(Lead.download_id == download.id, Lead.email == email)
            ).one()
    else:
        lead.requests += 1
        lead.last_requested_at = now
        lead.name = name or lead.name
    if marketing and not (lead.marketing and lead.unsubscribed_at is None):
        lead.marketing, lead.unsubscribed_at = True, None
        lead.consent_text, lead.consented_at = CONSENT_TEXT, now
    link = public_url(
        "content.download_file", slug=download.slug, token=download_token(download, email)
    )
    # At most one email a day per address and download (its lead), however often the form is
    # sent. Keyed by the lead, not the address: a valid address may be 254 characters long, and
    # the key's column holds 200 (PostgreSQL refused the message, a 500).
    queue_email(
        email,
        f"Your download: {download.title}",
        "content_download",
        dedupe_key=f"download:{download.id}:lead:{lead.id}:{now.date().isoformat()}",
        marketing=bool(lead.marketing and lead.unsubscribed_at is None),
        name=name,
        download=download,
        link=link,
        again_url=public_url("content.download", slug=download.slug),
        days=current_app.config.get("DOWNLOAD_LINK_MAX_AGE", 7 * 24 * 3600) // 86400,
    )
    db.session.flush()
    return lead


def leads_for_export(download_slug: str | None = None) -> list[Lead]:
    """Leads who agreed to marketing and have not unsubscribed, oldest first."""
    stmt = (
        select(Lead)
        .options(joinedload(Lead.download))
        .where(Lead.marketing.is_(True), Lead.unsubscribed_at.is_(None))
        .order_by(Lead.consented_at, Lead.id)
    )
    if download_slug:
        stmt = stmt.join(Download).where(Download.slug == download_slug)
    return list(db.session.scalars(stmt).all())


def forget_old_leads(now: datetime | None = None) -> int:
    """Delete the leads off the marketing list past MESSAGE_RETENTION_DAYS; return how many.

    A lead who did not agree to marketing gave the address for one guide, whose link lasts a
    week: it is kept the retention days after the last request, then goes. One who unsubscribed
    is kept as long after unsubscribing, so the list can show the request was honoured. A lead
    on the list stays until it unsubscribes.
    """
    from campus.mail.services import retention_cutoff

    cutoff = retention_cutoff(now)
    result = db.session.execute(
        delete(Lead)
        .where(
            Lead.last_requested_at < cutoff,
            or_(Lead.marketing.is_(False), Lead.unsubscribed_at < cutoff),
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount


_FEATURED = select(Download).where(Download.active.is_(True)).order_by(Download.id.desc()).limit(1)


@dataclass(frozen=True)
class Promo:
    """What the download box beside the articles shows (public, so the same for every reader)."""

    slug: str
    title: str
    description: str


_NO_PROMO = object()  # "not cached", since None is a real answer (no active download)


def featured_download(version: Hashable) -> Promo | None:
    """The newest active download, offered beside the articles, cached at content `version`.

    Keyed by the content version like the pages that show it: a page rebuilt after a download
    is withdrawn must not be cached for that version with the withdrawn promo in it.
    """
    cache = app_cache("content.promo", 1)
    found = cache.get("promo", version, _NO_PROMO) if version is not None else _NO_PROMO
    if found is not _NO_PROMO:
        return cast(Promo | None, found)
    item = db.session.scalar(_FEATURED)
    promo = Promo(item.slug, item.title, item.description) if item else None
    return cache.put("promo", promo, version) if version is not None else promo


def file_response(download: Download) -> Response | None:
    """Answer with the download's file (a signed link, or streamed), or None if it is missing.

    Called only for a valid link token. Past that check the file is the same for everyone, so
    an S3 store may hand out a short-lived signed URL instead of streaming it through the app.
    """
    if "/" in download.filename:
        return None
    try:
        key = storage_key(download.filename)
    except ValueError:
        return None
    seconds = current_app.config.get("STORAGE_S3_PRESIGN_SECONDS") or 0
    if seconds > 0:
        store = get_storage()
        url = store.url(
            key, download_name=download.filename, content_type="application/pdf", expires=seconds
        )
        if url is not None:
            if not store.exists(key):
                return None
            response = redirect(url, code=303)
            response.headers["Cache-Control"] = "private, no-store"
            return response
    return send(key, mimetype="application/pdf", download_name=download.filename, private=False)


def save_download(
    *, slug: str, title: str, description: str, filename: str, pages: int = 1
) -> tuple[Download, bool]:
    """Create or update a download by slug; (download, created)."""
    item = db.session.scalar(select(Download).where(Download.slug == slug))
    created = item is None
    if item is None:
        item = Download(slug=slug)
        db.session.add(item)
    item.title, item.description, item.filename, item.pages = title, description, filename, pages
    item.active = True
    db.session.flush()
    return item, created
