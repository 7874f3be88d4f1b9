"""Factories for the content tests."""

from __future__ import annotations

from datetime import timedelta

from tests import support

_n = iter(range(1, 10**9))


def body(name: str) -> str:
    """A body whose preview and gated part each carry one unique, searchable word."""
    return (
        f"Opening paragraph about the muscle previewword{name}.\n\n"
        f"Second preview paragraph.\n\n<!-- more -->\n\n"
        f"## Treatment\n\nThe gated part explains gatedword{name} in detail.\n"
    )


def make_article(
    *,
    slug: str | None = None,
    visibility: str = "public",
    status: str = "published",
    tags: list[str] | None = None,
    category: str | None = "Hip and thigh",
    title: str | None = None,
    body_md: str | None = None,
    days_ago: int = 0,
):
    """Save and commit an article (inside an app context)."""
    from campus.content.services import save_article
    from campus.extensions import db
    from campus.models.base import utcnow

    n = next(_n)
    slug = slug or f"article-{n}"
    article = save_article(
        slug=slug,
        title=title or f"Article {n}",
        summary=f"Summary of article {n}.",
        body_md=body_md or body(slug.replace("-", "")),
        visibility=visibility,
        status=status,
        category=category,
        tags=tags or [],
        author_name="Test Author",
        published_at=utcnow() - timedelta(days=days_ago) if status == "published" else None,
    )
    db.session.commit()
    return article


READERS = ("anonymous", "free_member", "paying_member", "lapsed_member", "admin")


def sign_in_as(app, client, reader: str) -> None:
    """Make `client` the given kind of reader.

    The matrix needs many sessions, so it skips the (deliberately slow) password hashing and
    writes the Flask-Login session directly; logging in itself is tested with the accounts.
    """
    if reader == "anonymous":
        return
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.models.base import utcnow

    with app.app_context():
        n = next(_n)
        user = User(
            email=f"reader{n}@example.com",
            password_hash="not-a-usable-hash",
            full_name=f"Reader {n}",
            role="admin" if reader == "admin" else "student",
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
        if reader == "paying_member":
            support.make_member(user.id, "active")
        elif reader == "lapsed_member":
            support.make_member(user.id, "canceled")
        elif reader == "unpaid_member":
            support.make_member(user.id, "unpaid")
        elif reader == "pending_member":
            support.make_member(user.id, "incomplete")
        elif reader == "ended_member":
            # Cancelled at period end, the period over, Stripe's deletion event not here yet.
            from datetime import timedelta

            support.make_member(
                user.id,
                "active",
                cancel_at_period_end=True,
                current_period_end=utcnow() - timedelta(hours=1),
            )
        # An admin previews as in /admin/: a second factor on, and a session that passed it.
        admin = reader == "admin"
        if admin:
            support.enable_totp(user.id)
        support.sign_in_directly(client, user.id, second_factor=admin)
