"""Write and read logic for articles: flush, never commit (downloads and leads: downloads.py)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from math import ceil

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import defer, joinedload, load_only, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from campus.content.access import Reader
from campus.content.models import (
    DRAFT,
    PUBLISHED,
    STATUSES,
    VISIBILITIES,
    Article,
    Category,
    Tag,
    article_tags,
)
from campus.content.render import render_article
from campus.content.search import search_page, search_terms
from campus.extensions import db
from campus.models.base import utcnow
from campus.models.reads import slugs_and_changes

# Body regions, in the order the library lists them.
REGIONS = (
    "Head and neck",
    "Shoulder",
    "Arm and hand",
    "Back",
    "Chest and abdomen",
    "Hip and thigh",
    "Knee and leg",
    "Foot and ankle",
)
PER_PAGE = 12
MAX_PAGE = 10_000


class ContentError(ValueError):
    """A problem with content or a request for it, explained for the person who sent it."""


def slugify(value: str) -> str:
    """Make a URL slug: "Gluteus Medius" -> "gluteus-medius"."""
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_value.lower()).strip("-")[:120]


# --- categories and tags ----------------------------------------------------------------------

NAME_MAX = 80  # characters of a region's or muscle's name (its slug is at most as long)
AUTHOR_MAX = 120  # the column's: PostgreSQL refuses a longer one with an error nobody could read


def get_or_create_category(name: str) -> Category:
    """Return the category (body region) with this name, creating it if needed."""
    name = name.strip()
    slug = slugify(name)
    # By its name first: the admin may have given the region a slug other than its name's.
    # Its own spelling too: SQLite's lower() leaves letters outside A to Z as they are.
    named = or_(Category.name == name, func.lower(Category.name) == name.lower())
    category = db.session.scalar(select(Category).where(named).order_by(Category.id).limit(1)) or (
        db.session.scalar(select(Category).where(Category.slug == slug)) if slug else None
    )
    if category is None:
        if not slug:
            raise ContentError("a category needs a name")
        position = REGIONS.index(name) if name in REGIONS else 100
        category = Category(slug=slug, name=name, position=position)
        db.session.add(category)
        db.session.flush()
    return category


def get_or_create_tags(names: list[str]) -> list[Tag]:
    """Return the tags (muscles) with these names, creating the missing ones."""
    tags: dict[int, Tag] = {}  # two names may find one tag (its own slug, and another name's)
    for name in names:
        name = name.strip()
        if not name:
            continue
        slug = slugify(name)
        # Its own spelling too: SQLite's lower() leaves letters outside A to Z as they are.
        named = or_(Tag.name == name, func.lower(Tag.name) == name.lower())
        tag = db.session.scalar(select(Tag).where(named).order_by(Tag.id).limit(1)) or (
            db.session.scalar(select(Tag).where(Tag.slug == slug)) if slug else None
        )
        if tag is None:
            if not slug:
                # Its address would be empty: it used to be left out of the article unsaid.
                raise ContentError(
                    f"the muscle “{name}” needs a letter or digit from A to Z or 0 to 9"
                )
            tag = Tag(slug=slug, name=name)
            db.session.add(tag)
            db.session.flush()
        tags[tag.id] = tag
    return list(tags.values())


# --- writing articles -------------------------------------------------------------------------


def save_article(
    *,
    slug: str,
    title: str,
    body_md: str,
    summary: str = "",
    visibility: str = "paid",
    status: str = DRAFT,
    category: str | None = None,
    tags: list[str] | None = None,
    author_name: str = "",
    published_at: datetime | None = None,
) -> Article:
    """Create or update (by slug) an article, rendering its HTML and search text once, now."""
    slug = slug.strip().lower()
    if not slug or slugify(slug) != slug:
        raise ContentError(f"the slug {slug!r} must be lower-case words joined by hyphens")
    if not title.strip():
        raise ContentError("an article needs a title")
    if len(title) > 200:
        raise ContentError("the title is longer than 200 characters")
    if visibility not in VISIBILITIES:
        raise ContentError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    if status not in STATUSES:
        raise ContentError(f"status must be one of {', '.join(STATUSES)}")
    if not body_md.strip():
        raise ContentError("the article body is empty")
    if len(author_name.strip()) > AUTHOR_MAX:
        raise ContentError(f"the author's name is longer than {AUTHOR_MAX} characters")
    # No text holds one (a file's, or a YAML "\0"), and PostgreSQL cannot store one: its error
    # ended a whole import rather than refusing the one file.
    texts = (title, summary, body_md, author_name, category or "", *(tags or []))
    if any("\x00" in text for text in texts):
        raise ContentError("the article holds a NUL character, which no text has")
    # Their slugs are kept in 80 characters: PostgreSQL refuses a longer one with an error the
    # admin could not read.
    if category and len(category.strip()) > NAME_MAX:
        raise ContentError(f"the region name is longer than {NAME_MAX} characters")
    for tag in tags or []:
        if len(tag.strip()) > NAME_MAX:
            raise ContentError(
                f"the muscle “{tag.strip()[:30]}…” is longer than {NAME_MAX} characters"
            )
    rendered = render_article(body_md)
    article = db.session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        article = Article(slug=slug)
        db.session.add(article)
    article.title = title.strip()
    article.summary = summary.strip()
    article.body_md = body_md
    article.preview_html = rendered.preview_html
    article.full_html = rendered.full_html
    article.preview_text = rendered.preview_text
    article.full_text = rendered.full_text
    article.reading_minutes = rendered.reading_minutes
    article.visibility = visibility
    article.status = status
    article.author_name = author_name.strip()
    article.category = get_or_create_category(category) if category else None
    article.tags = get_or_create_tags(tags or [])
    if status == PUBLISHED:
        article.published_at = published_at or article.published_at or utcnow()
    elif published_at is not None:
        article.published_at = published_at
    db.session.flush()
    return article


# --- reading articles -------------------------------------------------------------------------


def listable(reader: Reader) -> Select:
    """Articles that appear in the library for this reader: published ones (admins: all)."""
    stmt = select(Article)
    if not reader.admin:
        stmt = stmt.where(Article.status == PUBLISHED)
    return stmt


@dataclass
class Page:
    """One page of results."""

    items: list[Article]
    page: int
    per_page: int
    total: int
    terms: list[str]

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def library_page(
    reader: Reader,
    *,
    q: str | None = None,
    category: str | None = None,
    tag: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Return one page of the library, filtered and searched within what the reader may see."""
    page = min(max(page, 1), MAX_PAGE)
    if (category and slugify(category) != category) or (tag and slugify(tag) != tag):
        return Page([], page, per_page, 0, search_terms(q))
    stmt = listable(reader)
    if category:
        stmt = stmt.join(Category, Article.category_id == Category.id).where(
            Category.slug == category
        )
    if tag:
        tagged = (
            select(article_tags.c.article_id)
            .join(Tag, Tag.id == article_tags.c.tag_id)
            .where(Tag.slug == tag)
        )
        stmt = stmt.where(Article.id.in_(tagged))
    terms = search_terms(q)
    if terms:
        matches, ids = search_page(
            stmt, terms, reader, limit=per_page, offset=(page - 1) * per_page
        )
        loaded = db.session.scalars(
            select(Article)
            .where(Article.id.in_(ids))
            .options(joinedload(Article.category), selectinload(Article.tags))
        ).all()
        by_id = {article.id: article for article in loaded}
        return Page([by_id[i] for i in ids], page, per_page, matches, terms)
    if q and q.strip():
        # Nothing searchable was typed (only punctuation, say): nothing matches.
        return Page([], page, per_page, 0, [])
    stmt = stmt.order_by(Article.published_at.desc(), Article.id.desc())
    total = db.session.scalar(
        stmt.with_only_columns(func.count(Article.id), maintain_column_froms=True).order_by(None)
    )
    items = db.session.scalars(
        stmt.options(joinedload(Article.category), selectinload(Article.tags))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), page, per_page, total or 0, terms)


# The article page's statements are built once: constructing a Select costs far more than
# running it, and these run on every page view. Index 0: readers; 1: admins (drafts too).
_BY_SLUG = [
    select(Article)
    .where(Article.slug == bindparam("slug"), *conditions)
    # The page needs one of the two HTML bodies, not the Markdown or the search text.
    .options(
        joinedload(Article.category),
        defer(Article.body_md),
        defer(Article.preview_text),
        defer(Article.full_text),
    )
    for conditions in ([Article.status == PUBLISHED], [])
]
_TAGS_OF = (
    select(Tag)
    .join(article_tags, article_tags.c.tag_id == Tag.id)
    .where(article_tags.c.article_id == bindparam("article_id"))
    .order_by(Tag.name)
)
_SHARED = (
    select(article_tags.c.article_id, func.count().label("shared"))
    .where(
        article_tags.c.tag_id.in_(
            select(article_tags.c.tag_id)
            .where(article_tags.c.article_id == bindparam("article_id"))
            .scalar_subquery()
        ),
        article_tags.c.article_id != bindparam("article_id"),
    )
    .group_by(article_tags.c.article_id)
    .subquery("shared")
)
_RELATED = [
    select(Article)
    .join(_SHARED, _SHARED.c.article_id == Article.id)
    .where(*conditions)
    .options(load_only(Article.slug, Article.title, Article.visibility, Article.published_at))
    .order_by(_SHARED.c.shared.desc(), Article.published_at.desc(), Article.id)
    .limit(bindparam("limit"))
    for conditions in ([Article.status == PUBLISHED], [])
]


def article_for(slug: str, reader: Reader) -> Article | None:
    """Return the article at this slug if this reader may open it (drafts: admins only)."""
    if slugify(slug) != slug:
        return None
    article = db.session.scalars(_BY_SLUG[reader.admin], {"slug": slug}).first()
    if article is not None:
        tags = db.session.scalars(_TAGS_OF, {"article_id": article.id}).all()
        set_committed_value(article, "tags", list(tags))
    return article


def related_articles(article: Article, reader: Reader, limit: int = 3) -> list[Article]:
    """Published articles sharing the most tags with this one."""
    stmt = _RELATED[reader.admin]
    return list(db.session.scalars(stmt, {"article_id": article.id, "limit": limit}).all())


def categories_in_use(reader: Reader) -> list[Category]:
    """Body regions that have articles this reader can list, in region order."""
    # EXISTS stops at the first article of each region: cheap however large the library.
    used = listable(reader).with_only_columns(Article.id).where(Article.category_id == Category.id)
    stmt = select(Category).where(used.exists()).order_by(Category.position, Category.name)
    return list(db.session.scalars(stmt).all())


def tags_in_use(reader: Reader) -> list[Tag]:
    """Muscles that have articles this reader can list, by name."""
    # Walk the tag's rows in article_tags (indexed) and look each article up by id, stopping at
    # the first published one; written as nested EXISTS so planners cannot scan articles first.
    used = select(article_tags.c.article_id).where(article_tags.c.tag_id == Tag.id)
    if not reader.admin:
        published = select(Article.id).where(
            Article.id == article_tags.c.article_id, Article.status == PUBLISHED
        )
        used = used.where(published.exists())
    return list(db.session.scalars(select(Tag).where(used.exists()).order_by(Tag.name)).all())


def feed_articles(limit: int = 30) -> list[Article]:
    """The newest published articles, for the Atom feed."""
    stmt = (
        select(Article)
        .where(Article.status == PUBLISHED)
        .options(joinedload(Article.category))
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt).all())


def sitemap_entries() -> list[tuple[str, datetime]]:
    """Every published article's slug and last change, for the sitemap."""
    return slugs_and_changes(Article, Article.status == PUBLISHED)
