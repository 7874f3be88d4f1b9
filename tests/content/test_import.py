"""`flask content import DIR` and the demo seed built on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

GOOD = """---
title: Soleus
summary: The second heart.
visibility: members
category: Knee and leg
tags: [Soleus, Gastrocnemius]
author: A. Author
published: 2026-05-04
---

Soleus preview.

<!-- more -->

Soleus gated part.
"""


def _run(app, folder: Path):
    return app.test_cli_runner().invoke(args=["content", "import", str(folder)])


def test_import_creates_then_updates_in_place_by_slug(app, tmp_path):
    from campus.content.models import Article
    from campus.extensions import db

    (tmp_path / "soleus.md").write_text(GOOD)
    first = _run(app, tmp_path)
    assert first.exit_code == 0, first.output
    assert "created  soleus" in first.output
    with app.app_context():
        article = db.session.scalar(select(Article))
        first_id = article.id
        assert (article.visibility, article.category.name) == ("members", "Knee and leg")
        assert [t.name for t in article.tags] == ["Gastrocnemius", "Soleus"]
        assert article.published_at.date().isoformat() == "2026-05-04"
        assert "Soleus gated part" not in article.preview_html

    (tmp_path / "soleus.md").write_text(GOOD.replace("The second heart.", "Updated summary."))
    second = _run(app, tmp_path)
    assert second.exit_code == 0 and "updated  soleus" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Article)) == 1
        article = db.session.scalar(select(Article))
        assert (article.id, article.summary) == (first_id, "Updated summary.")


@pytest.fixture
def honolulu(app):
    """The provider's calendar on Hawaii time (ten hours behind UTC) for one test."""
    before = app.config["TIME_ZONE"]
    app.config["TIME_ZONE"] = "Pacific/Honolulu"
    yield
    app.config["TIME_ZONE"] = before


@pytest.mark.parametrize("written", ["2026-05-04", "2026-05-04 08:00"])
def test_an_imported_publication_day_is_the_day_the_page_shows(
    app, client, tmp_path, honolulu, written
):
    # 09:00 or 08:00 UTC on May 4 is the evening of May 3 in Honolulu: what the file says is
    # the provider's day and clock.
    text = GOOD.replace("visibility: members", "visibility: public")
    (tmp_path / "soleus.md").write_text(text.replace("2026-05-04", written))
    assert _run(app, tmp_path).exit_code == 0
    page = client.get("/articles/soleus").text
    assert "Published May 4, 2026" in page


def test_bad_files_are_reported_and_the_others_still_imported(app, tmp_path):
    from campus.content.models import Article
    from campus.extensions import db

    (tmp_path / "a-good.md").write_text(GOOD)
    (tmp_path / "b-broken-yaml.md").write_text("---\ntitle: [unclosed\n---\nBody\n")
    (tmp_path / "c-no-title.md").write_text("---\nsummary: x\n---\nBody\n")
    (tmp_path / "d-bad-visibility.md").write_text("---\ntitle: X\nvisibility: secret\n---\nB\n")
    (tmp_path / "e-binary.md").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "f-empty.md").write_text("---\ntitle: Empty\n---\n")
    result = _run(app, tmp_path)
    assert result.exit_code == 1
    assert "1 created, 0 updated, 5 failed." in result.output
    assert "b-broken-yaml.md: the front matter is not valid YAML" in result.output
    assert "c-no-title.md: the front matter needs a title" in result.output
    assert "d-bad-visibility.md: visibility must be one of" in result.output
    assert "e-binary.md: the file is not UTF-8 text" in result.output
    assert "f-empty.md: the article body is empty" in result.output
    with app.app_context():
        assert db.session.scalars(select(Article.slug)).all() == ["a-good"]


def test_a_file_the_database_cannot_hold_is_reported_and_the_others_still_imported(app, tmp_path):
    from campus.content.models import Article
    from campus.extensions import db

    (tmp_path / "a-good.md").write_text(GOOD)
    (tmp_path / "b-long-author.md").write_text(
        GOOD.replace("author: A. Author", "author: " + "A" * 121).replace("Soleus", "Psoas")
    )
    (tmp_path / "c-nul.md").write_text(
        GOOD.replace("gated part", "gated\x00part").replace("Soleus", "Iliacus")
    )
    (tmp_path / "d-escaped-nul.md").write_text(GOOD.replace("title: Soleus", 'title: "Sol\\0eus"'))
    result = _run(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "1 created, 0 updated, 3 failed." in result.output
    assert "b-long-author.md: the author's name is longer than 120 characters" in result.output
    assert "c-nul.md: the article holds a NUL character" in result.output
    assert "d-escaped-nul.md: `title` holds an invisible control" in result.output
    with app.app_context():
        assert db.session.scalars(select(Article.slug)).all() == ["a-good"]


def test_demo_seed_imports_six_articles_of_every_visibility_idempotently(app):
    from campus.content.demo import seed
    from campus.content.models import Article, Download
    from campus.extensions import db

    with app.app_context():
        first = seed()
        db.session.commit()
        second = seed()
        db.session.commit()
        articles = db.session.scalars(select(Article)).all()
        assert len(articles) >= 6 and second == []
        assert {a.visibility for a in articles} == {"public", "members", "paid"}
        assert db.session.scalar(select(func.count()).select_from(Download)) == 1
        for article in articles:
            for section in ("Anatomy", "Referred pain pattern", "Symptoms", "Causes",
                            "Differential diagnosis", "Associated muscles", "Self help",
                            "Treatment techniques"):  # fmt: skip
                assert f"<h2>{section}</h2>" in article.full_html, (article.slug, section)
            assert article.category is not None and article.tags
    assert any(line.startswith("created article") for line in first)


def test_an_article_saved_with_a_byte_order_mark_keeps_its_front_matter(app, tmp_path):
    from campus.content.models import Article
    from campus.extensions import db

    (tmp_path / "soleus.md").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    result = _run(app, tmp_path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        article = db.session.scalar(select(Article).filter_by(slug="soleus"))
        assert article.title == "Soleus" and article.summary == "The second heart."


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("summary: [One sentence., Another.]", "summary"),
        ("summary: {short: One sentence.}", "summary"),
        ("author: [A. Author, B. Author]", "author"),
        ("author: {name: A. Author}", "author"),
        ("author: true", "author"),
        ("category: [Knee and leg]", "category"),
        ("category: {region: Knee and leg}", "category"),
        ("visibility: [members]", "visibility"),
        ("status: [draft]", "status"),
        ("slug: [soleus]", "slug"),
    ],
)
def test_a_list_or_mapping_where_text_belongs_is_refused_naming_the_field(
    app, tmp_path, line, field
):
    from campus.content.models import Article
    from campus.extensions import db

    # str() of a list was stored and shown to readers: "['A. Author', 'B. Author']".
    key = line.split(":", 1)[0]
    text = "\n".join(line if row.startswith(f"{key}:") else row for row in GOOD.splitlines())
    if f"\n{key}:" not in GOOD:
        text = text.replace("title: Soleus", f"title: Soleus\n{line}")
    (tmp_path / "soleus.md").write_text(text + "\n")
    result = _run(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert f"soleus.md: `{field}` must be text" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Article)) == 0


def test_a_field_written_twice_in_the_front_matter_is_refused(app, tmp_path):
    from campus.content.models import Article
    from campus.extensions import db

    # Plain YAML keeps the last of the two: the summary written first was dropped unsaid.
    (tmp_path / "soleus.md").write_text(
        GOOD.replace("summary: The second heart.", "summary: The second heart.\nsummary: Old.")
    )
    result = _run(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "soleus.md: the front matter is not valid YAML ('summary' is written twice)" in (
        result.output
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Article)) == 0


def test_two_files_of_one_import_with_the_same_slug_are_not_merged(app, tmp_path):
    from campus.content.models import Article
    from campus.extensions import db

    # The second file overwrote the first, reported as "updated": one article was lost.
    (tmp_path / "a-soleus.md").write_text(GOOD.replace("title: Soleus", "title: A\nslug: soleus"))
    (tmp_path / "b-soleus.md").write_text(GOOD.replace("title: Soleus", "title: B\nslug: soleus"))
    result = _run(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "1 created, 0 updated, 1 failed." in result.output
    assert "b-soleus.md: the slug 'soleus' is also that of a-soleus.md" in result.output
    with app.app_context():
        assert db.session.scalars(select(Article.title)).all() == ["A"]
    # Imported again, the first file is an update of its own article, the second still refused.
    again = _run(app, tmp_path)
    assert "0 created, 1 updated, 1 failed." in again.output, again.output


def test_a_file_without_a_status_keeps_what_the_admin_chose(app, tmp_path):
    from campus.content import actions
    from campus.content.models import Article
    from campus.extensions import db

    # A new article is published; one an admin took back to draft was published again by the
    # next import of the same file.
    (tmp_path / "soleus.md").write_text(GOOD)
    assert _run(app, tmp_path).exit_code == 0
    with app.app_context():
        article = db.session.scalar(select(Article))
        assert article.status == "published"
        actions.set_status(article, "draft", actor=None)
        db.session.commit()
    (tmp_path / "soleus.md").write_text(GOOD.replace("The second heart.", "Updated."))
    assert _run(app, tmp_path).exit_code == 0
    with app.app_context():
        article = db.session.scalar(select(Article))
        assert (article.summary, article.status) == ("Updated.", "draft")
    # Saying it still publishes it.
    (tmp_path / "soleus.md").write_text(
        GOOD.replace("title: Soleus", "title: Soleus\nstatus: published")
    )
    assert _run(app, tmp_path).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Article.status)) == "published"


def test_a_number_too_long_for_python_is_named_without_its_internals(app, tmp_path):
    # The message told the admin to call sys.set_int_max_str_digits().
    (tmp_path / "soleus.md").write_text(GOOD.replace("The second heart.", "1" * 5000))
    result = _run(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "soleus.md: the front matter is not valid YAML (a number is more than 4,300 digits" in (
        result.output
    )
    assert "sys." not in result.output


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('title: "Sol\\u202eeus"', "title"),
        ('author: "A. Au\\u202ethor"', "author"),
        ('category: "Knee\\x1b and leg"', "category"),
        ('tags: ["Sol\\u202eeus"]', "tags"),
    ],
)
def test_a_control_or_direction_character_in_a_line_of_text_is_refused(app, tmp_path, line, field):
    from campus.content.models import Article
    from campus.extensions import db

    # The admin's form refuses them: a right-to-left override shows the name reversed.
    key = line.split(":", 1)[0]
    text = "\n".join(line if row.startswith(f"{key}:") else row for row in GOOD.splitlines())
    (tmp_path / "soleus.md").write_text(text + "\n")
    result = _run(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert f"soleus.md: `{field}` holds an invisible control or text-direction" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Article)) == 0


def test_a_file_that_is_not_an_article_in_the_folder_is_refused_by_name(app, tmp_path):
    from campus.content.models import Article
    from campus.extensions import db

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(GOOD.replace("title: Soleus", "title: Secret"))
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a-good.md").write_text(GOOD)
    # A link to a file elsewhere (the server's settings) was published as an article; a folder
    # or a dangling link was called bad YAML.
    (folder / "b-link.md").symlink_to(outside / "secret.md")
    (folder / "c-folder.md").mkdir()
    (folder / "d-dangling.md").symlink_to(folder / "gone.md")
    result = _run(app, folder)
    assert result.exit_code == 1, result.output
    assert "b-link.md: is a link to a file outside the folder" in result.output
    assert "c-folder.md: is a folder, not a file" in result.output
    assert "d-dangling.md: cannot be read" in result.output
    with app.app_context():
        assert db.session.scalars(select(Article.slug)).all() == ["a-good"]


def test_a_file_without_an_optional_field_keeps_what_the_admin_chose(app, tmp_path):
    from campus.content import services
    from campus.content.models import Article
    from campus.extensions import db

    # An admin opened a paid article to everyone and filed it under another region; the next
    # import of a file that never said either put it back behind the paywall, unfiled.
    bare = "---\ntitle: Soleus\n---\n\nSoleus preview.\n"
    (tmp_path / "soleus.md").write_text(bare)
    assert _run(app, tmp_path).exit_code == 0
    with app.app_context():
        article = db.session.scalar(select(Article))
        assert (article.visibility, article.category, article.tags) == ("paid", None, [])
        article.visibility, article.summary, article.author_name = "public", "Edited.", "B. Admin"
        article.category = services.get_or_create_category("Knee and leg")
        article.tags = services.get_or_create_tags(["Soleus"])
        db.session.commit()
    (tmp_path / "soleus.md").write_text(bare.replace("preview", "changed"))
    assert _run(app, tmp_path).exit_code == 0
    with app.app_context():
        article = db.session.scalar(select(Article))
        assert "changed" in article.body_md
        assert (article.visibility, article.summary, article.author_name) == (
            "public",
            "Edited.",
            "B. Admin",
        )
        assert (article.category.name, [tag.name for tag in article.tags]) == (
            "Knee and leg",
            ["Soleus"],
        )
    # Writing a field still changes it.
    (tmp_path / "soleus.md").write_text(
        bare.replace("title: Soleus", "title: Soleus\n" + "visibility: members")
    )
    assert _run(app, tmp_path).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Article.visibility)) == "members"


def test_a_folder_without_markdown_files_is_said_to_hold_none(app, tmp_path):
    # A mistyped folder imported nothing and said "0 created, 0 updated, 0 failed.", as if done.
    (tmp_path / "notes.txt").write_text("not an article")
    result = _run(app, tmp_path)
    assert result.exit_code == 2 and "holds no .md file" in result.output, result.output


def test_an_article_file_named_with_capital_md_is_named_as_not_read(app, tmp_path):
    from campus.content.models import Article
    from campus.extensions import db

    # The format is DIR/*.md: a file saved as .MD was passed over without a word.
    (tmp_path / "SOLEUS.MD").write_text(GOOD)
    result = _run(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "FAILED   SOLEUS.MD: only files ending in .md" in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(Article)) is None
