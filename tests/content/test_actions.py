"""Saving, publishing and deleting an article are content actions that audit themselves."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.content import actions
from campus.content.models import Article
from campus.extensions import db

ARTICLE = """---
title: Soleus
status: draft
tags: [Calf]
---

Soleus preview.
"""


def _entries() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_content_import_audits_each_article_as_an_operator_action(app, tmp_path: Path):
    (tmp_path / "soleus.md").write_text(ARTICLE)
    (tmp_path / "broken.md").write_text("---\nsummary: no title\n---\nBody\n")
    result = app.test_cli_runner().invoke(args=["content", "import", str(tmp_path)])
    assert result.exit_code == 1  # the broken file is reported; the good one went in
    with app.app_context():
        [entry] = _entries()
        assert (entry.action, entry.object_type) == ("create", "Article")
        assert entry.summary == "cli: Soleus" and entry.actor_id is None
        assert entry.after["tags"] == ["Calf"] and entry.before is None
    (tmp_path / "broken.md").unlink()
    (tmp_path / "soleus.md").write_text(ARTICLE.replace("title: Soleus", "title: Soleus muscle"))
    app.test_cli_runner().invoke(args=["content", "import", str(tmp_path)])
    with app.app_context():
        update = _entries()[-1]
        assert update.action == "update"
        assert update.summary == "cli: Soleus muscle: title"


def test_publishing_and_deleting_an_article_are_logged(app):
    with app.app_context():
        article, created = actions.save_article(
            actor=None, slug="trapezius", title="Trapezius", body_md="Upper trapezius."
        )
        assert created and article.status == "draft"
        assert actions.set_status(article, "published", actor=None) is True
        assert actions.set_status(article, "published", actor=None) is False
        assert article.published_at is not None
        actions.delete_article(article, actor=None)
        db.session.commit()
        assert db.session.scalar(select(Article)) is None
        assert [e.action for e in _entries()] == ["create", "publish", "delete"]
        deleted = _entries()[-1]
        assert deleted.before["slug"] == "trapezius" and deleted.after is None


def test_importing_an_unchanged_article_again_logs_nothing(app, tmp_path: Path):
    (tmp_path / "soleus.md").write_text(ARTICLE)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "import", str(tmp_path)]).exit_code == 0
    assert runner.invoke(args=["content", "import", str(tmp_path)]).exit_code == 0
    with app.app_context():
        # Nothing changed the second time: no entry says the article was updated.
        assert [e.action for e in _entries()] == ["create"]
