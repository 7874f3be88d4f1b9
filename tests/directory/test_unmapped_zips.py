"""A profile with no place on the map (saved at 0, 0) is found by no distance search."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from campus.directory import geo
from tests import support
from tests.directory.helpers import make_profile


def _move_to_nowhere(profile_id: int, zip_code: str = "09001") -> None:
    """Put a profile where saves at a military ZIP put it before such ZIPs were refused."""
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    x, y, z = geo.unit_vector(0.0, 0.0)
    db.session.execute(
        update(DirectoryProfile)
        .where(DirectoryProfile.id == profile_id)
        .values(
            zip_code=zip_code,
            city="Apo",
            state="",
            lat=0.0,
            lon=0.0,
            unit_x=x,
            unit_y=y,
            unit_z=z,
            lat_band=geo.lat_band(0.0),
        )
    )
    db.session.commit()


def test_a_profile_saved_at_0_0_is_found_by_no_distance_search(app):
    from campus.directory import search

    with app.app_context():
        stale = make_profile("10001", display_name="Stale Base")
        placed = make_profile("10001", display_name="Chelsea Care")
        _move_to_nowhere(stale.id)
        # Even a search from 0, 0 itself (as a ZIP with no coordinates used to be) finds it not.
        nowhere = geo.ZipPlace("00000", "", "", 0.0, 0.0)
        result = search.search(search.SearchQuery(nowhere, 250.0), count_impressions=False)
        assert result.total == 0 and result.hits == []
        near = search.search(search.build_query("10001", 25), count_impressions=False)
        assert [hit.profile.id for hit in near.hits] == [placed.id]


@pytest.mark.parametrize("zip_code", ["77352", "11805", "96942"])
def test_a_zip_code_the_data_puts_at_0_0_is_no_place_to_search_or_save(zip_code):
    """Not only military ZIPs: some post office boxes and single-firm ZIPs have no location."""
    with pytest.raises(geo.LocationError, match=zip_code):
        geo.locate(zip_code)


def test_a_search_from_a_zip_with_no_location_finds_no_one_at_0_0(app, client):
    with app.app_context():
        stale = make_profile("10001", display_name="Stale Base")
        _move_to_nowhere(stale.id, "77352")
    page = client.get("/directory/?zip=11805&radius=25")
    assert page.status_code == 422
    assert "stale-base" not in page.text


def test_the_practitioner_is_asked_to_correct_a_zip_code_with_no_place(app, client):
    with app.app_context():
        user = support.create_user(full_name="Stale Base")
        profile = make_profile("10001", user=user, display_name="Stale Base")
        _move_to_nowhere(profile.id)
        support.sign_in_directly(client, user.id)
    page = client.get("/directory/me")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "09001" in text and "searches do not find you" in text


def test_a_placed_profile_gets_no_such_warning(app, client):
    with app.app_context():
        user = support.create_user(full_name="Chelsea Care")
        make_profile("10001", user=user, display_name="Chelsea Care")
        support.sign_in_directly(client, user.id)
    assert "searches do not find you" not in client.get("/directory/me").text
