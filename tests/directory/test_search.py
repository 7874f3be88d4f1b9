"""Radius search: right people, nearest first, distance shown, same few statements always."""

from __future__ import annotations

import re

import pytest

from tests import support
from tests.directory.helpers import counted_statements, make_profile


def _slugs(html: str) -> list[str]:
    return re.findall(r'class="directory-card-name"><a href="/directory/([a-z0-9-]+)"', html)


def _distances(html: str) -> list[str]:
    return re.findall(r'class="directory-distance">([^<]+)<', html)


def test_search_finds_profiles_within_the_radius_nearest_first(app, client):
    with app.app_context():
        hoboken = make_profile("07030", display_name="Hoboken Hands").slug
        chelsea = make_profile("10001", display_name="Chelsea Care").slug
        brooklyn = make_profile("11201", display_name="Brooklyn Bodywork").slug
        make_profile("19103", display_name="Philadelphia Physio")  # ~80 miles away
        make_profile("90401", display_name="Santa Monica Soft Tissue")
    page = client.get("/directory/?zip=10001&radius=25")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert _slugs(html) == [chelsea, hoboken, brooklyn]
    distances = _distances(html)
    assert distances[0] == "under 0.1 mi"
    assert re.fullmatch(r"1\.\d mi", distances[1]), distances  # Hoboken, across the river
    assert "3 practitioners within 25 miles of" in html


def test_a_larger_radius_reaches_farther(app, client):
    with app.app_context():
        make_profile("10001")
        philadelphia = make_profile("19103").slug
    assert philadelphia not in _slugs(client.get("/directory/?zip=10001&radius=50").text)
    assert philadelphia in _slugs(client.get("/directory/?zip=10001&radius=100").text)


def test_filters_by_specialty_and_profession(app, client):
    with app.app_context():
        needling = make_profile(
            "10001", specialties=("dry-needling",), professions=("physical_therapist",)
        ).slug
        tpt = make_profile("10001", specialties=("trigger-point-therapy",)).slug
    by_specialty = client.get("/directory/?zip=10001&specialty=dry-needling").text
    assert _slugs(by_specialty) == [needling]
    by_profession = client.get("/directory/?zip=10001&profession=massage_therapist").text
    assert _slugs(by_profession) == [tpt]
    unknown = client.get("/directory/?zip=10001&specialty=reiki-from-afar")
    assert unknown.status_code == 422 and "Choose a specialty from the list" in unknown.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("zip=1234", "Enter a 5-digit US ZIP code"),
        ("zip=00000", "We do not know the ZIP code 00000"),
        ("zip=%00%01", "Enter a 5-digit US ZIP code"),
        ("zip=10001&radius=0", "between 1 and 250 miles"),
        ("zip=10001&radius=1e999", "a distance in miles"),
        ("zip=10001&radius=abc", "Choose a distance in miles"),
        ("zip=10001&page=99999999999999999999", "practitioner"),
    ],
)
def test_bad_input_gets_a_clear_message_not_an_error(client, query, message):
    page = client.get(f"/directory/?{query}")
    assert page.status_code in (200, 422)
    assert message in page.text


def test_a_refused_zip_code_is_said_beside_the_zip_field_not_after_the_button(client):
    # On a phone the row stacks; a message after the whole row lands under the Search button.
    html = client.get("/directory/?zip=99999").text
    row = html.index('class="directory-search-row"')
    message = html.index('id="dir-zip-msg"')
    assert row < html.index('id="dir-radius"') < message < html.index('id="dir-specialty"')
    assert "We do not know the ZIP code 99999" in html[message : html.index('id="dir-specialty"')]


def test_results_are_paginated(app, client):
    with app.app_context():
        for _ in range(23):
            make_profile("10001")
    first = client.get("/directory/?zip=10001").text
    second = client.get("/directory/?zip=10001&page=2").text
    assert len(_slugs(first)) == 20 and len(_slugs(second)) == 3
    assert not set(_slugs(first)) & set(_slugs(second))
    assert "Page 1 of 2" in first


def test_hidden_and_unpublished_profiles_appear_nowhere(app, client):
    from campus.directory import actions

    with app.app_context():
        shown = make_profile("10001", display_name="Shown Person")
        private = make_profile("10001", display_name="Private Person", published=False)
        withdrawn = make_profile("10001", display_name="Withdrawn Person")
        actions.unpublish_profile(withdrawn.user)
        moderated = make_profile("10001", display_name="Moderated Person")
        actions.hide_profile(moderated, "Fake credentials", actor=None)
        from campus.extensions import db

        db.session.commit()
        slugs = {p.slug for p in (private, withdrawn, moderated)}
        shown_slug = shown.slug
    html = client.get("/directory/?zip=10001").text
    api = client.get("/api/v1/directory?zip=10001").get_json()
    sitemap = client.get("/directory/sitemap.xml").text
    assert _slugs(html) == [shown_slug]
    assert [item["slug"] for item in api["items"]] == [shown_slug]
    assert shown_slug in sitemap
    for slug in slugs:
        assert slug not in html and slug not in sitemap and slug not in str(api)
        assert client.get(f"/directory/{slug}").status_code == 404


def test_each_search_counts_one_impression_per_profile_shown(app, client):
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    with app.app_context():
        near = make_profile("10001").id
        far = make_profile("90401").id
    client.get("/directory/?zip=10001")
    client.get("/api/v1/directory?zip=10001")
    client.get("/directory/?zip=10001&page=5")  # an empty page shows nobody
    with app.app_context():
        assert db.session.get(DirectoryProfile, near).impressions == 2
        assert db.session.get(DirectoryProfile, far).impressions == 0


def _statements_per_search(app, client, path: str) -> int:
    client.get(path)  # warm: the first request loads lazily-built things once
    with counted_statements(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_a_search_costs_the_same_statements_whatever_the_number_of_profiles(app, client):
    path = "/directory/?zip=10001&radius=25&specialty=trigger-point-therapy"
    with app.app_context():
        make_profile("10001")
        make_profile("07030")
    few = _statements_per_search(app, client, path)
    with app.app_context():
        for zip_code in ["10001", "07030", "11201", "10451", "07302", "10301"] * 8:
            make_profile(zip_code, specialties=("trigger-point-therapy", "sports-massage"))
    many = _statements_per_search(app, client, path)
    assert few == many
    # Who is found (the index alone), the page's cards, the page's list of credentials to
    # filter by, and (tests write each search's impressions at once) one UPDATE.
    assert many <= 4
    api_path = "/api/v1/directory?zip=10001&specialty=trigger-point-therapy"
    assert _statements_per_search(app, client, api_path) == many - 1  # no credential list


def test_a_signed_in_member_searches_with_the_same_statements_as_before(app, client):
    with app.app_context():
        user = support.create_user()
        support.sign_in_directly(client, user.id)
        make_profile("10001")
    path = "/directory/?zip=10001"
    one = _statements_per_search(app, client, path)
    with app.app_context():
        for _ in range(30):
            make_profile("10001")
    assert _statements_per_search(app, client, path) == one


def test_a_search_opens_at_its_results_or_at_the_zip_code_it_refused(app, client):
    with app.app_context():
        make_profile("10001")
    # Focus starts at what the search answered, so the browser scrolls there (the form fills a
    # phone's screen) and a screen reader reads the count or the problem first.
    found = client.get("/directory/?zip=10001").text
    note = re.search(r'<p class="result-note"[^>]*>', found)
    assert note and 'tabindex="-1"' in note.group(0) and "autofocus" in note.group(0)
    assert found.count("autofocus") == 1
    refused = client.get("/directory/?zip=1234").text
    zip_box = re.search(r'<input [^>]*id="dir-zip"[^>]*>', refused)
    assert zip_box and "autofocus" in zip_box.group(0) and 'aria-invalid="true"' in zip_box.group(0)
    assert refused.count("autofocus") == 1
    assert "autofocus" not in client.get("/directory/").text  # nothing asked yet
