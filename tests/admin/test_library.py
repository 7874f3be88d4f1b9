"""Library admin: articles through content's renderer, reader previews, publishing, taxonomy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import support
from tests.admin import helpers

BODY = (
    "Free opening paragraph.\n\n<!-- more -->\n\n"
    'SECRET paid section.<script>alert(1)</script><a href="javascript:alert(2)">x</a>'
)


def _article_form(**overrides) -> dict:
    data = {
        "title": "Levator scapulae",
        "slug": "levator-scapulae",
        "summary": "The neck's stiff corner.",
        "body_md": BODY,
        "visibility": "paid",
        "status": "draft",
        "category": "",
        "tags": "Levator scapulae, Neck",
        "author_name": "Dana",
    }
    data.update(overrides)
    return data


def _article(app, slug: str):
    from campus.content.models import Article
    from campus.extensions import db

    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == slug))
        if article is None:
            return None
        return {
            "id": article.id,
            "title": article.title,
            "status": article.status,
            "full_html": article.full_html,
            "preview_html": article.preview_html,
            "tags": sorted(t.name for t in article.tags),
            "category": article.category.name if article.category else None,
            "published_at": article.published_at,
        }


def test_an_article_is_saved_through_the_renderer_sanitized_and_audited(app, client):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/articles/new/", _article_form())
    assert response.status_code == 302, helpers.flashes(response)
    article = _article(app, "levator-scapulae")
    assert article["status"] == "draft" and article["published_at"] is None
    assert "SECRET paid section" in article["full_html"]
    assert "SECRET" not in article["preview_html"]
    assert "<script" not in article["full_html"] and "javascript:" not in article["full_html"]
    assert article["tags"] == ["Levator scapulae", "Neck"]
    (entry,) = helpers.audit_entries(app, object_type="Article")
    assert entry.action == "create" and entry.after["slug"] == "levator-scapulae"
    # A draft is not on the site yet.
    client.post("/logout", data={"csrf_token": ""})
    assert app.test_client().get("/articles/levator-scapulae").status_code == 404


def test_publishing_puts_the_article_on_the_site_with_only_the_preview_for_visitors(app, client):
    helpers.sign_in_admin(app, client)
    helpers.post(client, "/admin/articles/new/", _article_form())
    article_id = _article(app, "levator-scapulae")["id"]
    response = helpers.post(
        client, "/admin/articles/action/", {"action": "publish", "rowid": [str(article_id)]}
    )
    assert response.status_code == 302
    assert _article(app, "levator-scapulae")["status"] == "published"
    visitor = app.test_client().get("/articles/levator-scapulae")
    assert visitor.status_code == 200
    page = visitor.get_data(as_text=True)
    assert "Free opening paragraph." in page and "SECRET" not in page
    assert [e.action for e in helpers.audit_entries(app, object_type="Article")] == [
        "create",
        "publish",
    ]


def test_editing_an_article_can_change_its_slug_and_logs_before_and_after(app, client):
    helpers.sign_in_admin(app, client)
    helpers.post(client, "/admin/articles/new/", _article_form())
    article_id = _article(app, "levator-scapulae")["id"]
    edit = client.get(f"/admin/articles/edit/?id={article_id}").get_data(as_text=True)
    assert 'value="Levator scapulae, Neck"' in edit
    response = helpers.post(
        client,
        f"/admin/articles/edit/?id={article_id}",
        _article_form(slug="levator-scapulae-neck", title="Levator scapulae, revisited"),
    )
    assert response.status_code == 302, helpers.flashes(response)
    assert _article(app, "levator-scapulae") is None
    assert _article(app, "levator-scapulae-neck")["id"] == article_id
    entry = helpers.audit_entries(app, object_type="Article", action="update")[-1]
    assert entry.before["slug"] == "levator-scapulae"
    assert entry.after["slug"] == "levator-scapulae-neck"
    assert entry.after["title"] == "Levator scapulae, revisited"


def test_an_article_edit_sent_without_its_tags_field_keeps_the_tags(app, client):
    helpers.sign_in_admin(app, client)
    helpers.post(client, "/admin/articles/new/", _article_form())
    article_id = _article(app, "levator-scapulae")["id"]
    fields = _article_form(title="Levator scapulae, revisited")
    del fields["tags"]
    response = helpers.post(client, f"/admin/articles/edit/?id={article_id}", fields)
    assert response.status_code == 302, helpers.flashes(response)
    saved = _article(app, "levator-scapulae")
    assert saved["title"] == "Levator scapulae, revisited"
    assert saved["tags"] == ["Levator scapulae", "Neck"]


def test_a_duplicate_article_slug_gets_a_clear_message(app, client):
    helpers.sign_in_admin(app, client)
    helpers.post(client, "/admin/articles/new/", _article_form())
    response = helpers.post(client, "/admin/articles/new/", _article_form(title="Another"))
    assert response.status_code == 200
    assert "Another article already uses this slug." in helpers.flashes(response)
    assert _article(app, "levator-scapulae")["title"] == "Levator scapulae"


@pytest.mark.parametrize(
    "field", [{"title": "Neck \u202epain"}, {"author_name": "Ann\x1b"}, {"tags": "Trap\x07"}]
)
def test_an_article_line_with_a_control_character_is_refused(app, client, field):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/articles/new/", _article_form(**field))
    assert response.status_code == 200
    assert "invisible control or text-direction character" in response.get_data(as_text=True)
    assert not helpers.audit_entries(app, object_type="Article")


def test_a_muscle_too_long_to_keep_is_refused_with_a_sentence(app, client):
    # PostgreSQL refused its slug with an error nobody could read; SQLite kept it.
    helpers.sign_in_admin(app, client)
    form = _article_form(tags="Neck, " + "Sternocleidomastoid " * 5)
    response = helpers.post(client, "/admin/articles/new/", form)
    assert response.status_code == 200
    assert any("is longer than 80 characters" in m for m in helpers.flashes(response))
    assert _article(app, "levator-scapulae") is None
    assert not helpers.audit_entries(app, object_type="Article")


def test_a_muscle_without_a_letter_an_address_can_hold_is_refused_not_dropped(app, client):
    # Its tag had no slug, so it was left out of the saved article without a word.
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/articles/new/", _article_form(tags="Neck, Ω"))
    assert response.status_code == 200
    assert any("“Ω”" in m and "letter" in m for m in helpers.flashes(response))
    assert _article(app, "levator-scapulae") is None
    # A muscle of that name that has an address of its own is found by its name.
    from campus.content.models import Tag
    from campus.extensions import db

    with app.app_context():
        db.session.add(Tag(slug="omega", name="Ω"))
        db.session.commit()
    response = helpers.post(client, "/admin/articles/new/", _article_form(tags="Neck, Ω"))
    assert response.status_code == 302, helpers.flashes(response)
    assert _article(app, "levator-scapulae")["tags"] == ["Neck", "Ω"]


@pytest.mark.parametrize("name", ["Épaule", "Ω"])
def test_an_article_filed_under_a_region_named_beyond_a_to_z_goes_into_that_region(
    app, client, name
):
    from campus.content.models import Category
    from campus.extensions import db

    with app.app_context():
        db.session.add(Category(slug="own-slug", name=name))
        db.session.commit()
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/articles/new/", _article_form(category=name))
    assert response.status_code == 302, helpers.flashes(response)
    assert _article(app, "levator-scapulae")["category"] == name
    with app.app_context():
        assert db.session.scalars(select(Category.slug)).all() == ["own-slug"]


def test_an_imported_region_too_long_to_keep_is_refused(app):
    from campus.content.services import ContentError, save_article

    with app.app_context(), pytest.raises(ContentError, match="region name is longer than 80"):
        save_article(slug="neck", title="Neck", body_md="Text.", category="Head and neck " * 7)


def test_an_article_body_keeps_its_lines_but_not_control_or_direction_characters(app, client):
    helpers.sign_in_admin(app, client)
    form = _article_form(summary="Neck\x07 pain", body_md="Press *gently*\x1b.\u202e\n\nHold it.")
    assert helpers.post(client, "/admin/articles/new/", form).status_code == 302
    from campus.content.models import Article
    from campus.extensions import db

    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == "levator-scapulae"))
        assert (article.summary, article.body_md) == ("Neck pain", "Press *gently*.\n\nHold it.")


def test_the_preview_shows_what_each_kind_of_reader_sees_without_saving(app, client):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/articles/preview/", _article_form())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    panes = html.split('<section class="reader-pane">')[1:]
    assert len(panes) == 3
    anonymous, free, paying = panes
    assert "Anonymous visitor" in anonymous and "SECRET" not in anonymous
    assert "Free account" in free and "SECRET" not in free
    assert "Paying member" in paying and "SECRET paid section" in paying
    assert "<script>alert(1)" not in html
    assert _article(app, "levator-scapulae") is None

    members_only = helpers.post(
        client, "/admin/articles/preview/", _article_form(visibility="members")
    ).get_data(as_text=True)
    panes = members_only.split('<section class="reader-pane">')[1:]
    assert "SECRET" not in panes[0] and "SECRET" in panes[1] and "SECRET" in panes[2]


def test_categories_tags_and_downloads_round_trip_with_slug_checks(app, client):
    from campus.content.models import Category, Download, Tag
    from campus.extensions import db

    helpers.sign_in_admin(app, client)
    assert (
        helpers.post(
            client,
            "/admin/categories/new/",
            {"name": "Shoulder", "slug": "shoulder", "position": "2"},
        ).status_code
        == 302
    )
    assert (
        helpers.post(
            client, "/admin/tags/new/", {"name": "Trapezius", "slug": "trapezius"}
        ).status_code
        == 302
    )
    duplicate = helpers.post(client, "/admin/tags/new/", {"name": "Trap", "slug": "trapezius"})
    assert "Another tag already uses this slug." in helpers.flashes(duplicate)
    bad = helpers.post(client, "/admin/tags/new/", {"name": "Bad", "slug": "Not A Slug"})
    assert "Use lower-case words joined by hyphens." in helpers.flashes(bad)
    response = helpers.post(
        client,
        "/admin/downloads/new/",
        {
            "title": "Neck guide",
            "slug": "neck-guide",
            "description": "Six stretches",
            "filename": "neck.pdf",
            "pages": "4",
            "active": "y",
        },
    )
    assert response.status_code == 302, helpers.flashes(response)
    escape = helpers.post(
        client,
        "/admin/downloads/new/",
        {"title": "X", "slug": "x", "filename": "../../etc/passwd", "pages": "1"},
    )
    assert "A plain file name, no folders." in helpers.flashes(escape)
    with app.app_context():
        assert db.session.scalar(select(Category.name)) == "Shoulder"
        assert db.session.scalar(select(Tag.slug)) == "trapezius"
        assert db.session.scalar(select(Download.filename)) == "neck.pdf"
    created = {(e.object_type, e.action) for e in helpers.audit_entries(app)}
    assert created == {("Category", "create"), ("Tag", "create"), ("Download", "create")}


def test_an_article_is_saved_in_the_body_region_chosen(app, client):
    from campus.content.models import Category
    from campus.extensions import db

    helpers.sign_in_admin(app, client)
    with app.app_context():
        db.session.add(Category(name="Hip and thigh", slug="hip-and-thigh", position=1))
        db.session.commit()
    response = helpers.post(client, "/admin/articles/new/", _article_form(category="Hip and thigh"))
    assert response.status_code == 302, helpers.flashes(response)
    assert _article(app, "levator-scapulae")["category"] == "Hip and thigh"
    other = helpers.post(
        client, "/admin/articles/new/", _article_form(slug="other", category="Nowhere")
    )
    assert "Choose a body region from the list." in helpers.flashes(other)
    assert _article(app, "other") is None


@pytest.mark.parametrize(
    "page", ["99999999999999999999", "9223372036854775808", "-3", "1000001", "x"]
)
def test_a_list_page_out_of_range_shows_the_first(app, client, page):
    helpers.sign_in_admin(app, client)
    response = client.get(f"/admin/articles/?page={page}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "back", ["/admin/tags/\r\nSet-Cookie: x=1", "/admin/tags/\t", "//evil.example"]
)
def test_a_way_back_that_is_no_page_of_this_site_is_refused_and_saves_nothing(app, client, back):
    from urllib.parse import quote

    from campus.content.models import Tag
    from campus.extensions import db

    helpers.sign_in_admin(app, client)
    form = {"name": "Trapezius", "slug": "trapezius"}
    created = helpers.post(client, f"/admin/tags/new/?url={quote(back)}", form)
    assert created.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Tag)) is None
    helpers.post(client, "/admin/tags/new/", form)
    with app.app_context():
        tag_id = db.session.scalar(select(Tag.id))
    assert tag_id is not None
    assert client.get(f"/admin/tags/edit/?id={tag_id}&url={quote(back)}").status_code == 400
    deleted = helpers.post(client, "/admin/tags/delete/", {"id": str(tag_id), "url": back})
    assert deleted.status_code == 400
    with app.app_context():
        assert db.session.get(Tag, tag_id) is not None


@pytest.mark.parametrize(
    ("position", "message"),
    [
        # Past what the column holds.
        ("99999999999999999999", "between"),
        ("2147483648", "between"),
        ("-2147483649", "between"),
        # Past what a float holds: the range check itself raised OverflowError.
        ("1" * 400, "This number is too large."),
        # Not written in ASCII digits.
        ("\u0663", "Not a valid integer value."),
        ("1_0", "Not a valid integer value."),
        ("+7", "Not a valid integer value."),
    ],
)
def test_a_number_the_column_cannot_take_is_refused_on_the_form(app, client, position, message):
    from campus.content.models import Category
    from campus.extensions import db

    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, "/admin/categories/new/", {"name": "Hip", "slug": "hip", "position": position}
    )
    assert response.status_code == 200
    assert any(message in flashed for flashed in helpers.flashes(response)), helpers.flashes(
        response
    )
    with app.app_context():
        assert db.session.scalar(select(Category)) is None


def test_a_file_in_the_confirmation_passwords_place_is_refused(app, client):
    import io

    helpers.sign_in_admin(app, client, fresh=False)
    fields = helpers.confirm_fields(client)
    fields["password"] = (io.BytesIO(helpers.ADMIN_PASSWORD.encode()), "password.txt")
    response = client.post(
        "/admin/confirm/?next=/admin/",
        data={"csrf_token": support.csrf_token(client, "/admin/confirm/"), **fields},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    with client.session_transaction() as session:
        assert "admin_confirmed_at" not in session


def test_selected_tags_are_deleted_together_and_each_deletion_is_audited(app, client):
    from campus.content.models import Tag
    from campus.extensions import db

    helpers.sign_in_admin(app, client)
    with app.app_context():
        tags = [Tag(name=name, slug=name.lower()) for name in ("Scalenes", "Soleus", "Kept")]
        db.session.add_all(tags)
        db.session.commit()
        chosen = [str(tags[0].id), str(tags[1].id)]
    response = helpers.post(client, "/admin/tags/action/", {"action": "delete", "rowid": chosen})
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        assert list(db.session.scalars(select(Tag.name))) == ["Kept"]
    deleted = [e for e in helpers.audit_entries(app) if e.action == "delete"]
    assert sorted(e.object_type for e in deleted) == ["Tag", "Tag"]


def test_unpublishing_articles_in_bulk_takes_them_off_the_site_and_logs_each(app, client):
    helpers.sign_in_admin(app, client)
    for slug in ("levator-scapulae", "upper-trapezius"):
        helpers.post(client, "/admin/articles/new/", _article_form(slug=slug, status="published"))
    ids = [str(_article(app, slug)["id"]) for slug in ("levator-scapulae", "upper-trapezius")]
    assert app.test_client().get("/articles/upper-trapezius").status_code == 200
    response = helpers.post(
        client,
        "/admin/articles/action/",
        {"action": "unpublish", "rowid": ids},
        follow_redirects=True,
    )
    assert "2 articles set to draft." in helpers.flashes(response)
    visitor = app.test_client()
    for slug in ("levator-scapulae", "upper-trapezius"):
        assert _article(app, slug)["status"] == "draft"
        assert visitor.get(f"/articles/{slug}").status_code == 404
    logged = helpers.audit_entries(app, object_type="Article", action="unpublish")
    assert sorted(e.object_id for e in logged) == sorted(ids)


@pytest.mark.parametrize("pages", ["0", "-3"])
def test_a_download_of_no_pages_is_refused(app, client, pages):
    from campus.content.models import Download
    from campus.extensions import db

    # The download's page said "Free PDF · -3 pages" to every visitor.
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        "/admin/downloads/new/",
        {
            "title": "Neck guide",
            "slug": "neck-guide",
            "description": "Six stretches",
            "filename": "neck.pdf",
            "pages": pages,
            "active": "y",
        },
    )
    assert response.status_code == 200
    assert any("from 1 to 10,000" in m for m in helpers.flashes(response)), helpers.flashes(
        response
    )
    with app.app_context():
        assert db.session.scalar(select(Download)) is None


def test_a_download_people_asked_for_is_kept_and_one_nobody_asked_for_can_go(app, client):
    from campus.content import downloads
    from campus.content.models import Download, Lead
    from campus.extensions import db

    with app.app_context():
        asked, _ = downloads.save_download(
            slug="neck-guide", title="Neck guide", description="", filename="neck.pdf"
        )
        unasked, _ = downloads.save_download(
            slug="hip-guide", title="Hip guide", description="", filename="hip.pdf"
        )
        db.session.flush()
        db.session.add(
            Lead(
                download_id=asked.id,
                email="lead@example.com",
                name="Lee",
                consent_text="Send me news",
                marketing=True,
            )
        )
        db.session.commit()
        asked_id, unasked_id = asked.id, unasked.id
    helpers.sign_in_admin(app, client)
    # Deleting it took its leads with it: their names, addresses and marketing consents.
    response = helpers.post(
        client, "/admin/downloads/delete/", {"id": asked_id}, follow_redirects=True
    )
    assert any("Untick Active" in m for m in helpers.flashes(response)), helpers.flashes(response)
    with app.app_context():
        assert db.session.get(Download, asked_id) is not None
        assert db.session.scalar(select(Lead.email)) == "lead@example.com"
    helpers.post(client, "/admin/downloads/delete/", {"id": unasked_id})
    with app.app_context():
        assert db.session.get(Download, unasked_id) is None
    assert [e.object_id for e in helpers.audit_entries(app, action="delete")] == [str(unasked_id)]


def test_an_article_filed_under_a_category_whose_slug_was_changed_stays_in_it(app, client):
    # The article form names the category; the save looked it up by the slug of that name, so
    # "Neck" with the slug "neck-region" got a second "Neck" beside it, holding the article.
    from campus.content.models import Article, Category
    from campus.extensions import db

    helpers.sign_in_admin(app, client)
    made = helpers.post(
        client, "/admin/categories/new/", {"name": "Neck", "slug": "neck-region", "position": "1"}
    )
    assert made.status_code == 302, helpers.flashes(made)
    response = helpers.post(client, "/admin/articles/new/", _article_form(category="Neck"))
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        assert db.session.scalars(select(Category.slug)).all() == ["neck-region"]
        assert db.session.scalar(select(Article)).category.slug == "neck-region"


@pytest.mark.parametrize("name", ["Neck", " neck "])
def test_a_second_category_or_tag_of_the_same_name_is_refused(app, client, name):
    # Two "Neck" regions: the article form offered both under one name and filed under either.
    from campus.content.models import Category, Tag
    from campus.extensions import db

    helpers.sign_in_admin(app, client)
    helpers.post(
        client, "/admin/categories/new/", {"name": "Neck", "slug": "neck", "position": "1"}
    )
    helpers.post(client, "/admin/tags/new/", {"name": "Neck", "slug": "neck"})
    for path, fields in (
        ("/admin/categories/new/", {"name": name, "slug": "neck-2", "position": "2"}),
        ("/admin/tags/new/", {"name": name, "slug": "neck-2"}),
    ):
        response = helpers.post(client, path, fields)
        assert response.status_code == 200
        assert any("Neck" in m and "already" in m for m in helpers.flashes(response)), (
            helpers.flashes(response)
        )
    with app.app_context():
        assert len(db.session.scalars(select(Category)).all()) == 1
        assert len(db.session.scalars(select(Tag)).all()) == 1
