"""Article endpoints of the JSON API, gated exactly like the pages."""

from __future__ import annotations

from flask import abort
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from campus.api.spec import ErrorSchema, ResponseSchema
from campus.content import services
from campus.content.access import current_reader, may_read_full, visible_html, visible_text
from campus.content.disclaimer import as_dict as disclaimer
from campus.content.search import snippet
from campus.integers import QueryInteger
from campus.urls import public_url

blp = Blueprint("content_api", __name__, description="The article library")


class ArticleQuerySchema(Schema):
    q = fields.String(load_default=None, metadata={"description": "Full-text search"})
    category = fields.String(load_default=None, validate=validate.Length(max=80))
    tag = fields.String(load_default=None, validate=validate.Length(max=80))
    page = QueryInteger(load_default=1, validate=validate.Range(min=1, max=services.MAX_PAGE))
    per_page = QueryInteger(load_default=services.PER_PAGE, validate=validate.Range(1, 50))


class NamedSchema(ResponseSchema):
    slug = fields.String()
    name = fields.String()


class ArticleSummarySchema(ResponseSchema):
    slug = fields.String()
    title = fields.String()
    summary = fields.String()
    visibility = fields.String(metadata={"description": "public, members or paid"})
    status = fields.String()
    category = fields.Nested(NamedSchema, allow_none=True)
    tags = fields.List(fields.Nested(NamedSchema))
    author = fields.String()
    published_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()
    reading_minutes = fields.Integer()
    can_read = fields.Boolean(metadata={"description": "Whether you may read the whole article"})
    url = fields.String()
    snippet = fields.String(
        allow_none=True, metadata={"description": "Search excerpt (HTML with <mark>)"}
    )


class ArticlePageSchema(ResponseSchema):
    items = fields.List(fields.Nested(ArticleSummarySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class DisclaimerSchema(ResponseSchema):
    version = fields.String()
    text = fields.String()


class RelatedSchema(ResponseSchema):
    slug = fields.String()
    title = fields.String()
    visibility = fields.String()
    url = fields.String()


class ArticleDetailSchema(ArticleSummarySchema):
    html = fields.String(metadata={"description": "The whole article, or its preview"})
    is_preview = fields.Boolean()
    related = fields.List(fields.Nested(RelatedSchema))
    disclaimer = fields.Nested(DisclaimerSchema)


def _summary(article, reader, terms=None) -> dict:
    return {
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "visibility": article.visibility,
        "status": article.status,
        "category": article.category,
        "tags": article.tags,
        "author": article.author_name,
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "reading_minutes": article.reading_minutes,
        "can_read": may_read_full(article.visibility, reader),
        "url": public_url("content.article", slug=article.slug),
        "snippet": str(snippet(visible_text(article, reader), terms)) if terms else None,
    }


@blp.route("/articles")
@blp.arguments(ArticleQuerySchema, location="query")
@blp.response(200, ArticlePageSchema)
def list_articles(args: dict) -> dict:
    """List published articles, filtered and searched within what you may read."""
    reader = current_reader()
    page = services.library_page(
        reader,
        q=args["q"],
        category=args["category"],
        tag=args["tag"],
        page=args["page"],
        per_page=args["per_page"],
    )
    return {
        "items": [_summary(a, reader, page.terms) for a in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


@blp.route("/articles/<slug>")
@blp.response(200, ArticleDetailSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such article")
def get_article(slug: str) -> dict:
    """Return one article: the whole body if you may read it, else its preview."""
    reader = current_reader()
    article = services.article_for(slug, reader)
    if article is None:
        abort(404, description="No article at that address.")
    html, whole = visible_html(article, reader)
    return {
        **_summary(article, reader),
        "html": html,
        "is_preview": not whole,
        "related": [
            {
                "slug": r.slug,
                "title": r.title,
                "visibility": r.visibility,
                "url": public_url("content.article", slug=r.slug),
            }
            for r in services.related_articles(article, reader)
        ],
        "disclaimer": disclaimer(),
    }
