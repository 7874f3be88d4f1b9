"""Library admin: articles, written in Markdown and saved through content's actions.

Articles are saved, published and deleted through `campus.content.actions`, which render the
Markdown to sanitized HTML once, on save, and write the audit entry.
"""

from __future__ import annotations

from flask import abort, flash, request
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from campus.admin.base import AuditedModelView, select_choices
from campus.admin.catalog import SLUG
from campus.admin.conflicts import GuardedEdits, OpenedAs, digest
from campus.admin.forms import PlainTextCheck
from campus.admin.refusals import flash_refusal
from campus.audit import snapshot
from campus.content import actions as content_actions
from campus.content import services as content
from campus.content.access import Reader, may_read_full
from campus.content.models import DRAFT, PUBLISHED, Article, Category
from campus.content.render import CUT_MARKER, render_article
from campus.extensions import db
from campus.forms import Form, empty_unless_shown, printable_text
from campus.templating import format_date

VISIBILITY_LABELS = {
    "public": "Public: everyone reads it all",
    "members": "Members: free account reads it all",
    "paid": "Paid: paying members read it all",
}
READERS = (
    ("Anonymous visitor", "Not signed in", Reader()),
    ("Free account", "Signed in, no membership", Reader(signed_in=True)),
    ("Paying member", "Signed in with paid access", Reader(signed_in=True, paid=True)),
)


class ArticleForm(Form):
    """An article as the admin writes it."""

    title = StringField(
        "Title",
        validators=[DataRequired("Give the article a title."), Length(max=200), PlainTextCheck()],
    )
    slug = StringField(
        "Slug",
        validators=[DataRequired("Enter a slug for the address."), Length(max=120), SLUG],
        description="The address: /articles/your-slug. Lower-case words joined by hyphens.",
    )
    summary = TextAreaField(
        "Summary",
        validators=[Optional()],
        filters=[printable_text, empty_unless_shown],
        render_kw={"rows": 2},
    )
    body_md = TextAreaField(
        "Article (Markdown)",
        validators=[DataRequired("The article body is empty.")],
        filters=[printable_text, empty_unless_shown],  # zero-width characters alone are empty
        render_kw={"class": "markdown-editor", "rows": 20},
        description=escape(f"Put {CUT_MARKER} on its own line where the free preview ends."),
    )
    visibility = SelectField(
        "Who reads it all", choices=select_choices(VISIBILITY_LABELS.items()), default="paid"
    )
    status = SelectField(
        "Status", choices=select_choices([(DRAFT, "Draft"), (PUBLISHED, "Published")])
    )
    category = SelectField("Body region", choices=[], validate_choice=False)
    tags = StringField(
        "Tags (muscles)",
        validators=[PlainTextCheck()],
        description="Comma-separated, e.g. Trapezius, Levator scapulae",
    )
    author_name = StringField("Author", validators=[Optional(), Length(max=120), PlainTextCheck()])
    # What the edit page showed (GuardedEdits): this form is the view's own, not scaffolded.
    opened_as = OpenedAs()

    def validate_category(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose a body region from the list.")


def _status_badge(view, context, model, name) -> Markup:
    css = "badge-ok" if model.status == PUBLISHED else "badge-muted"
    return Markup(f'<span class="badge {css}">{escape(model.status)}</span>')


class ArticleView(GuardedEdits, AuditedModelView):
    """Articles: Markdown editor, reader previews, draft / publish."""

    form = ArticleForm
    column_list = ("title", "status", "visibility", "category", "published_at", "updated_at")
    column_labels = {"published_at": "Published", "updated_at": "Updated"}
    column_searchable_list = ("title", "slug", "summary")
    column_filters = ("status", "visibility", "category.name")
    column_default_sort = ("updated_at", True)
    column_formatters = {
        "status": _status_badge,
        "published_at": lambda v, c, m, n: (
            format_date(m.published_at, "%Y-%m-%d") if m.published_at else "—"
        ),
        "updated_at": lambda v, c, m, n: format_date(m.updated_at, "%Y-%m-%d %H:%M %Z"),
        "category": lambda v, c, m, n: m.category.name if m.category else "—",
    }
    column_details_list = (
        "title", "slug", "status", "visibility", "category", "tags", "author_name",
        "summary", "body_md", "published_at", "reading_minutes",
    )  # fmt: skip
    column_formatters_detail = {
        "tags": lambda v, c, m, n: ", ".join(t.name for t in m.tags),
        "body_md": lambda v, c, m, n: Markup(
            f'<pre class="markdown-source" tabindex="0">{escape(m.body_md)}</pre>'
        ),
    }
    create_template = "admin/campus/article_create.html"
    edit_template = "admin/campus/article_edit.html"
    details_template = "admin/campus/article_details.html"

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Article, session, **kwargs)

    def _category_choices(self) -> list[SelectChoice]:
        rows = db.session.scalars(select(Category).order_by(Category.position, Category.name))
        return select_choices([("", "— none —")] + [(c.name, c.name) for c in rows])

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.category.choices = self._category_choices()
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form.category.choices = self._category_choices()
        if request.method == "GET" and obj is not None:
            form.category.data = obj.category.name if obj.category else ""
            form.tags.data = ", ".join(t.name for t in obj.tags)
        elif obj is not None and not isinstance(form.tags.data, str):
            # A POST without the tags field leaves WTForms' default, the article's tag rows,
            # which the save cannot split: read them as the text the field shows (kept as is).
            form.tags.data = ", ".join(t.name for t in obj.tags)
        return form

    def validate_form(self, form) -> bool:
        ok = super().validate_form(form)
        if not isinstance(form, ArticleForm):
            return ok  # the delete and action forms
        slug = (form.slug.data or "").strip().lower()
        if slug:
            current = request.args.get("id", type=int)
            other = db.session.scalar(select(Article).where(Article.slug == slug))
            if other is not None and other.id != current:
                form.slug.errors = [*form.slug.errors, "Another article already uses this slug."]
                ok = False
        return ok

    def _save(self, form, article: Article | None = None) -> Article:
        tags = [t.strip() for t in (form.tags.data or "").split(",") if t.strip()]
        saved, _created = content_actions.save_article(
            actor=current_user._get_current_object(),
            article=article,
            slug=form.slug.data,
            title=form.title.data,
            body_md=form.body_md.data,
            summary=form.summary.data or "",
            visibility=form.visibility.data,
            status=form.status.data,
            category=form.category.data or None,
            tags=tags,
            author_name=form.author_name.data or "",
        )
        return saved

    def create_model(self, form):
        try:
            article = self._save(form)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            self._refused(exc)
            return False
        return article

    def fingerprint_of(self, obj: Article) -> str:
        """What the edit page shows of an article: its columns and its tags (muscles)."""
        return digest({**snapshot(obj), "tags": sorted(t.name for t in obj.tags)})

    def update_model(self, form, model) -> bool:
        # The form saves every field: one opened before another admin's save would undo it.
        if self.changed_since_opened(form, model):
            return False
        try:
            self._save(form, model)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            self._refused(exc)
            return False
        return True

    def delete_model(self, model) -> bool:
        try:
            content_actions.delete_article(model, actor=current_user._get_current_object())
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            self.handle_view_exception(exc)
            return False
        self.after_model_delete(model)
        return True

    def _refused(self, exc: Exception) -> None:
        """Say why an article was not saved: a rule's own words, else a plain sentence."""
        if isinstance(exc, content.ContentError | ValidationError):
            flash_refusal("The article was not saved", str(exc))
        else:
            # A slug saved by another admin a moment before, or a fault: never its SQL.
            self.handle_view_exception(exc)

    def _set_status(self, ids, status: str) -> None:
        count = 0
        actor = current_user._get_current_object()
        for article in db.session.scalars(select(Article).where(Article.id.in_(ids))):
            count += content_actions.set_status(article, status, actor=actor)
        db.session.commit()
        flash(f"{count} article{'s' if count != 1 else ''} set to {status}.", "success")

    @action("publish", "Publish", "Publish the selected articles?")
    def action_publish(self, ids) -> None:
        self._set_status([int(i) for i in ids], PUBLISHED)

    @action("unpublish", "Unpublish (draft)", "Take the selected articles off the site?")
    def action_unpublish(self, ids) -> None:
        self._set_status([int(i) for i in ids], DRAFT)

    def _preview(self, title: str, visibility: str, preview_html: str, full_html: str, saved):
        panes = []
        for name, note, reader in READERS:
            full = may_read_full(visibility, reader)
            panes.append(
                {
                    "name": name,
                    "note": note,
                    "full": full,
                    "html": Markup(full_html if full else preview_html),
                }
            )
        return self.render(
            "admin/campus/article_preview.html",
            title=title,
            visibility=visibility,
            visibility_label=VISIBILITY_LABELS.get(visibility, visibility),
            panes=panes,
            saved=saved,
        )

    @expose("/preview/", methods=("POST",))
    def preview_draft(self):
        """Show what each kind of reader would see of the text being edited (nothing saved)."""
        body = request.form.get("body_md", "")
        visibility = request.form.get("visibility", "paid")
        if visibility not in VISIBILITY_LABELS:
            visibility = "paid"
        rendered = render_article(body)
        title = request.form.get("title", "").strip() or "Untitled article"
        return self._preview(title, visibility, rendered.preview_html, rendered.full_html, None)

    @expose("/preview/<int:article_id>")
    def preview_saved(self, article_id: int):
        """Show what each kind of reader sees of a saved article."""
        article = db.session.get(Article, article_id)
        if article is None:
            abort(404)
        return self._preview(
            article.title, article.visibility, article.preview_html, article.full_html, article
        )
