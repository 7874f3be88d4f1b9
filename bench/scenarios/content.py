"""Article pages: an anonymous reader on a free article, a paying member on a paid one."""

from bench.harness import Scenario, make_user


def _seed_articles() -> None:
    from campus.content.demo import seed
    from campus.extensions import db

    seed()
    db.session.commit()


def _public_article() -> dict:
    _seed_articles()
    return {"path": "/articles/hamstrings"}


def _paid_article() -> dict:
    _seed_articles()
    return {"path": "/articles/piriformis", "login": make_user("paid@bench.example", paid=True)}


SCENARIOS = [
    Scenario(name="public article (anonymous)", prepare=_public_article, target=0.5),
    Scenario(name="paid article (paying member)", prepare=_paid_article, target=0.35),
]
