"""Articles, their categories (body regions) and tags (muscles), downloads and leads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.extensions import Model, db
from campus.models.base import IDS_KEPT, TimestampMixin, utcnow

PUBLIC, MEMBERS, PAID = "public", "members", "paid"
VISIBILITIES = (PUBLIC, MEMBERS, PAID)
DRAFT, PUBLISHED = "draft", "published"
STATUSES = (DRAFT, PUBLISHED)

# The SQLite full-text index (an FTS5 virtual table and its shadow tables) is created by the
# migration, not by a model: keep autogenerate from proposing to drop it.
FTS_TABLE = "article_fts"
db.metadata.info.setdefault("unmanaged_table_prefixes", set()).add(FTS_TABLE)

article_tags = Table(
    "article_tags",
    db.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Category(Model):
    """A body region articles are filed under."""

    __tablename__ = "categories"
    __table_args__ = IDS_KEPT

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=100)

    def __str__(self) -> str:
        return self.name


class Tag(Model):
    """A muscle (or topic) articles are tagged with."""

    __tablename__ = "tags"
    __table_args__ = IDS_KEPT

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Article(TimestampMixin, Model):
    """An article: Markdown source and the sanitized HTML and text rendered from it on save.

    The preview (above the cut) and the full body are stored apart so a reader without access
    is only ever handed the preview.
    """

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_status_published_at", "status", "published_at"),
        # SQLite only (migration 0014): a search's filters without reading the wide rows.
        Index("ix_articles_search_filter", "status", "visibility", "published_at", "category_id"),
        IDS_KEPT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    preview_html: Mapped[str] = mapped_column(Text, default="")
    full_html: Mapped[str] = mapped_column(Text, default="")
    preview_text: Mapped[str] = mapped_column(Text, default="")
    full_text: Mapped[str] = mapped_column(Text, default="")
    reading_minutes: Mapped[int] = mapped_column(default=1)
    visibility: Mapped[str] = mapped_column(String(20), default=PAID)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(120), default="")
    published_at: Mapped[datetime | None]

    category: Mapped[Category | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by=Tag.name)

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED

    def __repr__(self) -> str:
        return f"<Article {self.slug} {self.visibility}/{self.status}>"


class Download(TimestampMixin, Model):
    """A free resource (a PDF in the instance folder) given in exchange for an email."""

    __tablename__ = "downloads"
    __table_args__ = IDS_KEPT

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)


class Lead(Model):
    """One request for a download per email and download, with the marketing answer."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("download_id", "email", name="uq_leads_download_email"),
        IDS_KEPT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    download_id: Mapped[int] = mapped_column(ForeignKey("downloads.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(120))
    consent_text: Mapped[str] = mapped_column(Text)  # what they agreed to; "" when they did not
    marketing: Mapped[bool] = mapped_column(default=False)
    unsubscribed_at: Mapped[datetime | None]
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)  # their first request
    consented_at: Mapped[datetime | None]  # when they last agreed to marketing; None if never
    requests: Mapped[int] = mapped_column(default=1)
    last_requested_at: Mapped[datetime] = mapped_column(default=utcnow)

    download: Mapped[Download] = relationship()


class ContentVersion(Model):
    """One row whose number changes whenever articles, regions, muscles or downloads change.

    Processes cache article pages under this number, so a change is seen by all of them at once.
    Each change draws a fresh random number (content/cache.py says why it is not a count).
    """

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
