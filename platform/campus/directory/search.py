"""The radius search: a box on the indexed coordinates, then the exact distance, in SQL.

Each profile keeps its point on the unit sphere and its latitude band next to its latitude and
longitude. A search seeks each latitude band its box touches in the search index and reads only
that band's stretch of longitude; of those points it keeps the ones in the box whose dot product
with the searched ZIP's is at least cos(radius / R), which is exactly the great circle's "within
the radius", without trigonometry in the database. The index holds every column that test
reads, so the first statement reads the index alone and returns (closeness, id) of every profile
found: they are counted and ordered here (nearest first). The second reads the page's cards;
their specialties and professions come from the profile's masks, and a credential filter is a
subquery of the first. So a search costs two statements whatever the number of profiles.
The impressions of the profiles a page shows are counted in memory and written in batches
(impressions.py). Statements are built once per combination of filters and run on the session's
connection (campus.models.reads): building and compiling them per search cost more than running
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, or_, select

from campus import dates
from campus.directory import credentials, geo, impressions, taxonomy
from campus.directory.models import DirectoryProfile
from campus.models.reads import read
from campus.programs.models import Credential, Program

PER_PAGE = 20
MAX_PAGE = 1000


@dataclass(frozen=True)
class SearchQuery:
    """A checked search: where, how far, and the optional filters."""

    place: geo.ZipPlace
    radius_miles: float
    specialty: str | None = None
    profession: str | None = None
    credential: str | None = None
    page: int = 1
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class Card:
    """What a results page shows of a profile (plain values: no ORM object per result)."""

    id: int
    slug: str
    display_name: str
    practice_name: str
    city: str
    state: str
    zip_code: str
    accepting_clients: bool
    contact_enabled: bool
    photo_key: str | None
    specialty_keys: list[str]
    profession_keys: list[str]
    specialty_names: tuple[str, ...]


_CARD_COLUMNS = (
    DirectoryProfile.id,
    DirectoryProfile.slug,
    DirectoryProfile.display_name,
    DirectoryProfile.practice_name,
    DirectoryProfile.city,
    DirectoryProfile.state,
    DirectoryProfile.zip_code,
    DirectoryProfile.accepting_clients,
    DirectoryProfile.contact_enabled,
    DirectoryProfile.photo_key,
)


@dataclass(frozen=True)
class Hit:
    """One profile in the results, with its distance from the searched ZIP."""

    profile: Card
    miles: float
    distance: str  # as the results show it ("4.2 mi")


@dataclass(frozen=True)
class SearchResult:
    """A page of results, nearest first."""

    query: SearchQuery
    hits: list[Hit]
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))


def build_query(
    zip_code: str | None,
    radius: str | float | None,
    *,
    specialty: str | None = None,
    profession: str | None = None,
    credential: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchQuery:
    """Check a search's inputs; raise LocationError with a message and the input it is about."""
    place = geo.locate(zip_code)
    radius_miles = geo.clean_radius(radius)
    if specialty and specialty not in taxonomy.specialties():
        raise geo.LocationError("Choose a specialty from the list.", "specialty")
    if profession and profession not in taxonomy.professions():
        raise geo.LocationError("Choose a profession from the list.", "profession")
    if credential and credential not in dict(credentials.credential_choices()):
        raise geo.LocationError("Choose a credential from the list.", "credential")
    return SearchQuery(
        place=place,
        radius_miles=radius_miles,
        specialty=specialty or None,
        profession=profession or None,
        credential=credential or None,
        page=max(1, min(page, MAX_PAGE)),
        per_page=per_page,
    )


# How near a profile is: its unit vector's dot product with the searched ZIP's (x, y, z).
_closeness = (
    DirectoryProfile.unit_x * bindparam("x")
    + DirectoryProfile.unit_y * bindparam("y")
    + DirectoryProfile.unit_z * bindparam("z")
)


def _conditions(wraps: bool, specialty: bool, profession: bool, credential: bool) -> list:
    """The WHERE clause of a search with these filters (its values are bound parameters)."""
    profile = DirectoryProfile
    lon_range = (
        or_(profile.lon >= bindparam("lon_min"), profile.lon <= bindparam("lon_max"))
        if wraps
        else profile.lon.between(bindparam("lon_min"), bindparam("lon_max"))
    )
    conditions = [
        profile.listed.is_(True),
        profile.lat_band.in_(bindparam("bands", expanding=True)),
        lon_range,
        # Saved at a ZIP with no coordinates (before those were refused), a profile sits at 0, 0:
        # it has no distance from anywhere, and is found by no search (its owner is told).
        or_(profile.lat != 0, profile.lon != 0),
    ]
    # The cheap tests first: SQLite checks a row's terms in this order, and a specialty drops
    # most of the box before any product is computed.
    if specialty:
        conditions.append(profile.specialty_mask.op("&")(bindparam("specialty_bit")) != 0)
    if profession:
        conditions.append(profile.profession_mask.op("&")(bindparam("profession_bit")) != 0)
    conditions += [
        profile.lat.between(bindparam("lat_min"), bindparam("lat_max")),
        _closeness >= bindparam("min_dot"),
    ]
    if credential:
        # Read now, like the profile's badges: a revoked or expired credential drops at once.
        holders = (
            select(Credential.user_id)
            .join(Program, Program.id == Credential.program_id)
            .where(
                Program.slug == bindparam("credential"),
                Credential.status == "issued",
                Credential.valid_until >= bindparam("today"),
            )
        )
        conditions.append(profile.user_id.in_(holders))
    return conditions


@cache
def _found_statement(wraps: bool, specialty: bool, profession: bool, credential: bool) -> Select:
    """(closeness, id) of every profile a search finds, for one combination of filters."""
    return select(_closeness, DirectoryProfile.id).where(
        *_conditions(wraps, specialty, profession, credential)
    )


# Built once: the ids go in as one expanding parameter, not as one bound value each.
_PAGE = select(
    *_CARD_COLUMNS,
    DirectoryProfile.lat,
    DirectoryProfile.lon,
    DirectoryProfile.specialty_mask,
    DirectoryProfile.profession_mask,
).where(DirectoryProfile.id.in_(bindparam("ids", expanding=True)))


def _params(query: SearchQuery) -> tuple[tuple[bool, ...], dict[str, Any]]:
    """The statements' shape (wrapping box, which filters) and the values bound into them."""
    box = geo.bounding_box(query.place.lat, query.place.lon, query.radius_miles)
    x, y, z = geo.unit_vector(query.place.lat, query.place.lon)
    params: dict[str, Any] = {
        "bands": geo.lat_bands(box),
        "lat_min": box.lat_min,
        "lat_max": box.lat_max,
        "lon_min": box.lon_min,
        "lon_max": box.lon_max,
        "x": x,
        "y": y,
        "z": z,
        "min_dot": geo.min_dot(query.radius_miles),
    }
    if query.specialty:
        params["specialty_bit"] = taxonomy.specialty_bit(query.specialty)
    if query.profession:
        params["profession_bit"] = taxonomy.profession_bit(query.profession)
    if query.credential:
        params["credential"] = query.credential
        params["today"] = dates.today()
    shape = (box.wraps, bool(query.specialty), bool(query.profession), bool(query.credential))
    return shape, params


def search(query: SearchQuery, *, count_impressions: bool = True) -> SearchResult:
    """Find listed profiles within the radius, nearest first, one page of them."""
    shape, params = _params(query)
    # Nearest first: the largest dot product; the lower id first between equals.
    found = sorted(read(_found_statement(*shape), params).all(), key=lambda row: (-row[0], row[1]))
    start = (query.page - 1) * query.per_page
    ids = [row[1] for row in found[start : start + query.per_page]]
    if not ids:
        return SearchResult(query, [], len(found))
    place = query.place
    cards = {}
    for row in read(_PAGE, {"ids": ids}):
        values = (
            *row[: len(_CARD_COLUMNS)],
            taxonomy.specialty_keys(row.specialty_mask),
            taxonomy.profession_keys(row.profession_mask),
            taxonomy.specialty_names(row.specialty_mask),
        )
        miles = geo.distance_miles(place.lat, place.lon, row.lat, row.lon)
        cards[row.id] = Hit(Card(*values), miles, geo.format_miles(miles))
    hits = [cards[profile_id] for profile_id in ids if profile_id in cards]
    if count_impressions:
        impressions.count(ids)
    return SearchResult(query, hits, len(found))
