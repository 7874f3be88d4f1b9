"""Who may read what: the one place that decides an article's visibility for a reader."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context
from flask_login import current_user

from campus.content.models import MEMBERS, PAID, PUBLIC, VISIBILITIES, Article


@dataclass(frozen=True)
class Reader:
    """What matters about the person reading: signed in, paying (billing's rule), admin."""

    signed_in: bool = False
    paid: bool = False
    admin: bool = False

    @classmethod
    def for_user(cls, user) -> Reader:
        """Describe a user (or anonymous visitor) as a reader."""
        from campus.accounts.access import acts_as_admin
        from campus.billing.access import has_paid_access

        if user is None or not getattr(user, "is_authenticated", False):
            return cls()
        # The admin's standing, as in /admin/: a password alone (or an API token) reads as a member.
        if acts_as_admin(user):
            return cls(signed_in=True, paid=True, admin=True)
        return cls(signed_in=True, paid=has_paid_access(user), admin=False)


ANONYMOUS = Reader()


def current_reader() -> Reader:
    """Return the reader of this request (worked out once per request)."""
    if not has_request_context():
        return ANONYMOUS
    reader = g.get("content_reader")
    if reader is None:
        reader = g.content_reader = Reader.for_user(current_user)
    return reader


def may_read_full(visibility: str, reader: Reader) -> bool:
    """Decide whether a reader may see the whole of an article with this visibility.

    THE rule for every surface (page, library, search, feed, API): public is for everyone,
    members for any signed-in user, paid for readers with paid access; admins see everything.
    """
    if reader.admin:
        return True
    if visibility == PUBLIC:
        return True
    if visibility == MEMBERS:
        return reader.signed_in
    if visibility == PAID:
        return reader.paid
    return False  # an unknown visibility is treated as closed


def readable_visibilities(reader: Reader) -> list[str]:
    """The visibilities whose full text this reader may see (for queries)."""
    return [v for v in VISIBILITIES if may_read_full(v, reader)]


def visible_html(article: Article, reader: Reader) -> tuple[str, bool]:
    """Return (the HTML this reader may see, whether it is the whole article)."""
    if may_read_full(article.visibility, reader):
        return article.full_html, True
    return article.preview_html, False


def visible_text(article: Article, reader: Reader) -> str:
    """Return the plain text this reader may see (for snippets)."""
    return article.full_text if may_read_full(article.visibility, reader) else article.preview_text
