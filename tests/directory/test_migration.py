"""Migrations 0017 and 0019 give every existing profile its unit vector and its latitude band."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from tests.scratch import migrating

NOW = "2026-11-01 10:00:00"
PLACES = {1: (40.7484, -73.9967), 2: (61.2181, -149.9003), 3: (-14.2756, -170.7020)}


def _insert_profile(conn, profile_id: int, lat: float, lon: float) -> None:
    conn.execute(
        text(
            "INSERT INTO users (id, email, password_hash, full_name, profession, role, "
            "created_at, updated_at) VALUES (:id, :email, 'x', 'Pat Lee', 'massage_therapist', "
            "'student', :now, :now)"
        ),
        {"id": profile_id, "email": f"p{profile_id}@example.com", "now": NOW},
    )
    conn.execute(
        text(
            "INSERT INTO directory_profiles (id, user_id, slug, display_name, practice_name, "
            "street, city, state, zip_code, show_street, lat, lon, bio, bio_html, website, "
            "phone, accepting_clients, contact_enabled, hidden_reason, listed, specialty_mask, "
            "profession_mask, impressions, messages_received, created_at, updated_at) VALUES "
            "(:id, :id, :slug, 'Pat Lee', '', '', '', '', '10001', false, :lat, :lon, '', '', "
            "'', '', true, true, '', true, 1, 1, 0, 0, :now, :now)"
        ),
        {"id": profile_id, "slug": f"pat-{profile_id}", "lat": lat, "lon": lon, "now": NOW},
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_profile_gets_the_unit_vector_of_its_coordinates(tmp_path, backend):
    from flask_migrate import downgrade, upgrade

    from campus.directory import geo
    from campus.extensions import db

    with migrating(backend, tmp_path):
        upgrade(revision="0016_search_inline")
        with db.engine.begin() as conn:
            for profile_id, (lat, lon) in PLACES.items():
                _insert_profile(conn, profile_id, lat, lon)
        upgrade(revision="0017_directory_units")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, unit_x, unit_y, unit_z FROM directory_profiles ORDER BY id")
            ).all()
        assert [row[0] for row in rows] == list(PLACES)
        for profile_id, *vector in rows:
            assert vector == pytest.approx(geo.unit_vector(*PLACES[profile_id]), abs=1e-12)
        downgrade(revision="0016_search_inline")
        columns = {c["name"] for c in inspect(db.engine).get_columns("directory_profiles")}
        assert not columns & {"unit_x", "unit_y", "unit_z"}
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM directory_profiles")) == 3


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_profile_gets_the_latitude_band_the_search_seeks(tmp_path, backend):
    from flask_migrate import downgrade, upgrade

    from campus.directory import geo
    from campus.extensions import db

    with migrating(backend, tmp_path):
        upgrade(revision="0016_search_inline")
        with db.engine.begin() as conn:
            for profile_id, (lat, lon) in PLACES.items():
                _insert_profile(conn, profile_id, lat, lon)
        upgrade(revision="0019_directory_bands")
        with db.engine.connect() as conn:
            bands = dict(conn.execute(text("SELECT id, lat_band FROM directory_profiles")).all())
        assert bands == {pid: geo.lat_band(lat) for pid, (lat, _lon) in PLACES.items()}
        assert bands[3] == -143  # south of the equator, bands count down from -1
        index = {
            ix["name"]: ix["column_names"]
            for ix in inspect(db.engine).get_indexes("directory_profiles")
        }["ix_directory_profiles_search"]
        assert index[:4] == ["listed", "lat_band", "lon", "lat"]
        downgrade(revision="0018_mail_reply_to")
        columns = {c["name"] for c in inspect(db.engine).get_columns("directory_profiles")}
        assert "lat_band" not in columns
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM directory_profiles")) == 3
