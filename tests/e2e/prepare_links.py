"""Emailed links that still work, so the crawl opens their pages with the button."""

from __future__ import annotations

from typing import Any


def valid_links(member: Any, unverified: Any) -> dict[str, str]:
    """A sign-up confirmation link of `unverified` and an email-change link of `member`.

    Opening either changes nothing (only the page's button does), so the crawl can visit them.
    """
    from flask import current_app

    from campus.accounts.services import issue_token
    from campus.extensions import db

    max_age = current_app.config["EMAIL_VERIFY_MAX_AGE"]
    verify = issue_token(unverified, "verify_email", max_age)
    change = issue_token(member, "change_email", max_age, new_email="a11y-moved@example.com")
    db.session.commit()
    return {"verify_email_token": verify, "change_email_token": change}
