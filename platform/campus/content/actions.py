"""Library actions: the one write path for saving, publishing and deleting an article.

Each action takes the acting user (None for an operator's command, such as `content import`),
makes the change, and writes its audit entry in the same transaction. The admin and the
importer both call these. Actions flush; callers commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from campus.accounts.models import User
from campus.audit import changed_fields, object_label, record, snapshot
from campus.content import services
from campus.content.models import DRAFT, PUBLISHED, Article
from campus.extensions import db
from campus.models.base import utcnow


def _state(article: Article) -> dict[str, Any]:
    data = snapshot(article)
    data["tags"] = [t.name for t in article.tags]
    return data


def _log(
    action: str,
    article: Article,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor: User | None,
) -> None:
    summary = object_label(article)
    fields = changed_fields(before, after) if before is not None and after is not None else []
    if fields:
        summary += f": {', '.join(fields)}"
    if actor is None:
        summary = f"cli: {summary}"  # an operator's command, not a signed-in admin
    record(action, article, summary=summary, before=before, after=after, actor=actor)


def save_article(
    *,
    actor: User | None,
    slug: str,
    article: Article | None = None,
    title: str,
    body_md: str,
    summary: str = "",
    visibility: str = "paid",
    status: str = DRAFT,
    category: str | None = None,
    tags: list[str] | None = None,
    author_name: str = "",
    published_at: datetime | None = None,
) -> tuple[Article, bool]:
    """Create or update an article (the one given, else by slug), and log it; (article, created).

    Passing `article` lets an edit change the slug.
    """
    slug = slug.strip().lower()
    if article is None:
        article = db.session.scalar(select(Article).where(Article.slug == slug))
    before = _state(article) if article is not None else None
    if article is not None and article.slug != slug:
        taken = db.session.scalar(select(Article.id).where(Article.slug == slug))
        if taken is not None:
            raise services.ContentError("another article already uses this slug")
        article.slug = slug  # services.save_article finds the article by its slug
        db.session.flush()
    saved = services.save_article(
        slug=slug,
        title=title,
        body_md=body_md,
        summary=summary,
        visibility=visibility,
        status=status,
        category=category,
        tags=tags,
        author_name=author_name,
        published_at=published_at,
    )
    after = _state(saved)
    if before != after:  # the same file imported again changed nothing: nothing to log
        _log("create" if before is None else "update", saved, before, after, actor)
    return saved, before is None


def set_status(article: Article, status: str, *, actor: User | None) -> bool:
    """Publish an article or take it back to draft, and log it; False if nothing changed."""
    if status not in (PUBLISHED, DRAFT):
        raise services.ContentError(f"status must be {PUBLISHED} or {DRAFT}")
    if article.status == status:
        return False
    before = _state(article)
    article.status = status
    if status == PUBLISHED:
        article.published_at = article.published_at or utcnow()
    db.session.flush()
    action = "publish" if status == PUBLISHED else "unpublish"
    _log(action, article, before, _state(article), actor)
    return True


def delete_article(article: Article, *, actor: User | None) -> None:
    """Delete an article, and log it with what it said."""
    _log("delete", article, _state(article), None, actor)
    db.session.delete(article)
    db.session.flush()
