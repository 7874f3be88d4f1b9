import re
import subprocess
import sys

import pytest
from sqlalchemy import inspect

from tests.support import ROOT


def test_standard_library_platform_still_works_beside_campus():
    code = "import campus, platform, uuid; print(platform.system(), uuid.uuid4().version)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Linux", "4"]


def test_healthz_reports_database_and_broker(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_answers_503_when_the_database_is_down(app):
    from tests.support import make_app

    broken = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    r = broken.test_client().get("/healthz")
    assert r.status_code == 503
    body = r.get_json()
    assert body["status"] == "error"
    assert body["checks"]["database"].startswith("error")


def test_home_page_presents_the_campus_and_the_membership(client):
    html = client.get("/").get_data(as_text=True)
    assert "$19.95" in html
    assert "Create a free account" in html


def test_unknown_page_renders_a_404_page(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "We could not find that page" in r.get_data(as_text=True)
    assert "There is no page at this address" in r.get_data(as_text=True)
    assert "If you entered the URL manually" not in r.get_data(as_text=True)


def test_unknown_api_path_answers_json_404(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"
    # A sentence for the caller, not Werkzeug's to a person typing an address.
    assert r.get_json()["error"]["message"] == "Nothing exists at this address."


def test_openapi_document_lists_me(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/me" in spec["paths"] or "/me" in spec["paths"]


def test_api_docs_page_renders(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    assert "/api/v1/me" in r.get_data(as_text=True)


def test_production_refuses_to_start_without_secrets(monkeypatch):
    import pytest

    from campus import create_app

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", {"SECRET_KEY": None})


def test_migrations_build_the_same_schema_as_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    from campus.extensions import db
    from campus.models.base import include_name
    from tests.support import make_app

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with app.app_context():
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        db.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_go_down_to_an_empty_database_and_up_again(tmp_path, backend):
    from flask_migrate import downgrade, upgrade

    from campus.extensions import db
    from tests.scratch import migrating

    with migrating(backend, tmp_path):
        upgrade()
        downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()


def test_every_utc_time_keeps_its_zone_in_a_migrated_postgres_database(tmp_path):
    """A column without a zone stores the server's local time: hours off where it is not UTC."""
    from flask_migrate import upgrade

    from campus.extensions import db
    from campus.models.base import UTCDateTime
    from tests.scratch import migrating

    with migrating("postgresql", tmp_path):
        upgrade()
        inspector = inspect(db.engine)
        naive = [
            f"{table.name}.{column['name']}"
            for table in db.metadata.sorted_tables
            if inspector.has_table(table.name)
            for column in inspector.get_columns(table.name)
            if isinstance(getattr(table.c.get(column["name"]), "type", None), UTCDateTime)
            and not column["type"].timezone
        ]
    assert naive == []


def test_the_sitemap_lists_every_public_page_and_nothing_unpublished(app, client):
    import re

    from tests.content.helpers import make_article
    from tests.learning.helpers import make_course
    from tests.programs.helpers import make_program

    with app.app_context():
        make_article(slug="piriformis-points", visibility="members")  # its preview is public
        make_article(slug="draft-article", status="draft")
        make_course("neck-basics")
        make_course("draft-course", published=False)
        make_program(slug="certified-therapist")
        make_program(slug="draft-program", published=False)
    robots = client.get("/robots.txt").text
    assert "/sitemap.xml" in robots.replace("/directory/sitemap.xml", "")
    sitemap = client.get("/sitemap.xml")
    assert sitemap.mimetype == "application/xml"
    paths = re.findall(r"<loc>https?://[^/]+(/[^<]*)</loc>", sitemap.text)
    for wanted in (
        "/",
        "/articles/",
        "/courses/",
        "/programs/",
        "/articles/piriformis-points",
        "/courses/neck-basics",
        "/programs/certified-therapist",
    ):
        assert wanted in paths, wanted
    assert not [p for p in paths if "draft" in p]
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_variants_of_a_page_ask_search_engines_not_to_index_them(client):
    noindex = '<meta name="robots" content="noindex, follow">'
    for plain, variant in (
        ("/login", "/login?next=/courses/neck-basics"),
        ("/signup", "/signup?next=/articles/piriformis"),
        ("/courses/", "/courses/?topic=neck-and-shoulder"),
    ):
        assert noindex not in client.get(plain).text, plain
        assert noindex in client.get(variant).text, variant


def test_the_skip_link_leads_to_a_main_that_can_take_focus(client):
    page = client.get("/").text
    assert '<a class="skip-link" href="#main">' in page
    assert re.search(r'<main id="main" tabindex="-1"', page)
