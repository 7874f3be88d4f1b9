"""Library admin: categories, tags, downloads and leads (articles: admin/articles.py)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from wtforms.validators import DataRequired, NumberRange, Regexp, ValidationError

from campus.admin.articles import ArticleView
from campus.admin.base import AuditedModelView
from campus.admin.catalog import SLUG, CatalogView
from campus.content.models import Article, Category, Download, Lead, Tag
from campus.extensions import db
from campus.templating import format_date


class CategoryView(CatalogView):
    """Body regions articles are filed under."""

    column_list = ("name", "slug", "position", "articles")
    column_default_sort = ("position", False)
    column_formatters = {
        "articles": lambda v, c, m, n: v_count(Article.category_id == m.id),
    }
    form_columns = ("name", "slug", "position")
    form_args = {
        "name": {"validators": [DataRequired("Name the body region.")]},
        "slug": {"validators": [DataRequired(), SLUG]},
        "position": {
            "validators": [
                DataRequired(),
            ]
        },
    }
    unique_messages = {"slug": "Another category already uses this slug."}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Category, session, **kwargs)

    def validate_change(self, form, model, is_created: bool) -> None:
        _name_unused(model, "body region")


def v_count(condition) -> int:
    """Count articles matching a condition (for list columns)."""
    from campus.extensions import db

    return db.session.scalar(select(func.count()).select_from(Article).where(condition)) or 0


class TagView(CatalogView):
    """Muscles (tags) articles are tagged with."""

    column_list = ("name", "slug")
    column_default_sort = ("name", False)
    column_searchable_list = ("name", "slug")
    form_columns = ("name", "slug")
    form_args = {
        "name": {"validators": [DataRequired("Name the tag.")]},
        "slug": {"validators": [DataRequired(), SLUG]},
    }
    unique_messages = {"slug": "Another tag already uses this slug."}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Tag, session, **kwargs)

    def validate_change(self, form, model, is_created: bool) -> None:
        _name_unused(model, "tag")


def _name_unused(model: Category | Tag, noun: str) -> None:
    """Refuse a category or tag named as another is (articles name theirs, case aside)."""
    model.name = (model.name or "").strip()
    kind = type(model)
    with db.session.no_autoflush:
        other = db.session.scalar(
            select(kind.name)
            .where(func.lower(kind.name) == model.name.lower(), kind.id != (model.id or 0))
            .limit(1)
        )
    if other is not None:
        # The article form offers them by name: two alike cannot be told apart there.
        raise ValidationError(f"There is already a {noun} named {other}: pick another name.")


class DownloadView(CatalogView):
    """Free downloads offered for an email address; their lead counts."""

    column_list = ("title", "slug", "filename", "active", "leads")
    column_formatters = {
        "leads": lambda v, c, m, n: _lead_count(m.id),
    }
    form_columns = ("title", "slug", "description", "filename", "pages", "active")
    form_args = {
        "title": {"validators": [DataRequired("Give the download a title.")]},
        "slug": {"validators": [DataRequired(), SLUG]},
        "filename": {
            "validators": [
                DataRequired("Name the file in the downloads folder."),
                Regexp(r"^[A-Za-z0-9._-]+$", message="A plain file name, no folders."),
            ],
            "description": "A file in the instance downloads folder.",
        },
        # Its page tells visitors how many pages the PDF has.
        "pages": {
            "validators": [NumberRange(1, 10_000, "Give the PDF's pages: from 1 to 10,000.")]
        },
    }
    unique_messages = {"slug": "Another download already uses this slug."}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Download, session, **kwargs)

    def validate_delete(self, model) -> None:
        # Its leads (names, addresses, marketing answers) would go with it, unlogged.
        leads = _lead_count(model.id)
        if leads:
            raise ValidationError(
                f"{model.title} was asked for by {leads} lead{'s' if leads != 1 else ''}, so it "
                "cannot be deleted. Untick Active to stop offering it."
            )


def _lead_count(download_id: int) -> int:
    from campus.extensions import db

    return db.session.scalar(select(func.count()).where(Lead.download_id == download_id)) or 0


def marketing_answer(lead: Lead) -> str:
    """What a lead answered about marketing email, and when, as the list shows it."""
    if lead.unsubscribed_at is not None:
        return f"unsubscribed {format_date(lead.unsubscribed_at, '%Y-%m-%d')}"
    if lead.marketing and lead.consented_at is not None:
        return f"agreed {format_date(lead.consented_at, '%Y-%m-%d')}"
    return "did not agree"


class LeadView(AuditedModelView):
    """People who asked for a download (read-only)."""

    can_create = can_edit = False
    column_list = ("download", "email", "name", "asked_at", "marketing", "requests")
    column_labels = {"asked_at": "First asked", "marketing": "Marketing email"}
    column_default_sort = ("asked_at", True)
    column_searchable_list = ("email", "name")
    column_filters = ("download.title", "asked_at", "marketing")
    column_formatters = {
        "download": lambda v, c, m, n: m.download.title,
        "asked_at": lambda v, c, m, n: format_date(m.asked_at, "%Y-%m-%d"),
        "marketing": lambda v, c, m, n: marketing_answer(m),
    }
    column_formatters_export = {"asked_at": lambda v, c, m, n: m.asked_at.isoformat()}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Lead, session, **kwargs)

    @property
    def list_note(self) -> str:  # type: ignore[override]
        """Why leads leave the list: the retention of forget_old_leads."""
        days = current_app.config["MESSAGE_RETENTION_DAYS"]
        return (
            "A lead who agreed to marketing stays until it unsubscribes. One who did not agree "
            f"is deleted {days} days after its last request, and one who unsubscribed {days} "
            "days after unsubscribing."
        )


def add_views(admin, session) -> None:
    """Add the library views under "Library"."""
    cat = "Library"
    for view, name, endpoint in (
        (ArticleView, "Articles", "articles"),
        (CategoryView, "Categories", "categories"),
        (TagView, "Tags", "tags"),
        (DownloadView, "Free downloads", "downloads"),
        (LeadView, "Leads", "leads"),
    ):
        admin.add_view(
            view(session, name=name, category=cat, endpoint=f"admin_{endpoint}", url=endpoint)
        )
