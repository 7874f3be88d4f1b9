"""The radius search: a box on the indexed coordinates in SQL, then the exact distance here.

A search costs the same three statements however many profiles there are: the candidates in
the box (ids and coordinates only), the page's profiles, and their specialties and professions
(one UNION). The impressions of the profiles a page shows are counted in memory and written in
batches (impressions.py). The statements are built once and run on the session's connection
(campus.models.reads): building and compiling them per search cost more than running them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import Select, bindparam, literal, or_, select, union_all

from campus.directory import credentials, geo, impressions, taxonomy
from campus.directory.models import DirectoryProfile, ProfileProfession, ProfileSpecialty
from campus.models.reads import read

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
    specialty_keys: list[str] = field(default_factory=list)
    profession_keys: list[str] = field(default_factory=list)


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

    @property
    def distance(self) -> str:
        return geo.format_miles(self.miles)


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
    """Check a search's inputs; raise LocationError (or DirectoryFilterError) with a message."""
    place = geo.locate(zip_code)
    radius_miles = geo.clean_radius(radius)
    if specialty and specialty not in taxonomy.specialties():
        raise geo.LocationError("Choose a specialty from the list.")
    if profession and profession not in taxonomy.professions():
        raise geo.LocationError("Choose a profession from the list.")
    if credential and credential not in dict(credentials.credential_choices()):
        raise geo.LocationError("Choose a credential from the list.")
    return SearchQuery(
        place=place,
        radius_miles=radius_miles,
        specialty=specialty or None,
        profession=profession or None,
        credential=credential or None,
        page=max(1, min(page, MAX_PAGE)),
        per_page=per_page,
    )


@cache
def _candidate_statement(wraps: bool, specialty: bool, profession: bool) -> Select:
    """The box query for one combination of filters, built once per process."""
    profile = DirectoryProfile
    lon_range = (
        or_(profile.lon >= bindparam("lon_min"), profile.lon <= bindparam("lon_max"))
        if wraps
        else profile.lon.between(bindparam("lon_min"), bindparam("lon_max"))
    )
    stmt = select(profile.id, profile.user_id, profile.lat, profile.lon).where(
        profile.listed.is_(True),
        profile.lat.between(bindparam("lat_min"), bindparam("lat_max")),
        lon_range,
    )
    if specialty:
        stmt = stmt.where(profile.specialty_mask.op("&")(bindparam("specialty_bit")) != 0)
    if profession:
        stmt = stmt.where(profile.profession_mask.op("&")(bindparam("profession_bit")) != 0)
    return stmt


def _candidates(query: SearchQuery) -> list[tuple[int, int, float, float]]:
    """(id, user_id, lat, lon) of every listed profile in the query's box that fits the filters.

    Every column it names is in the search index, so the database reads the index alone.
    """
    box = geo.bounding_box(query.place.lat, query.place.lon, query.radius_miles)
    params: dict[str, float | int] = {
        "lat_min": box.lat_min,
        "lat_max": box.lat_max,
        "lon_min": box.lon_min,
        "lon_max": box.lon_max,
    }
    if query.specialty:
        params["specialty_bit"] = taxonomy.specialty_bit(query.specialty)
    if query.profession:
        params["profession_bit"] = taxonomy.profession_bit(query.profession)
    stmt = _candidate_statement(box.wraps, bool(query.specialty), bool(query.profession))
    return [(row[0], row[1], row[2], row[3]) for row in read(stmt, params).all()]


def search(query: SearchQuery, *, count_impressions: bool = True) -> SearchResult:
    """Find listed profiles within the radius, nearest first, one page of them."""
    rows = _candidates(query)
    if query.credential:
        holders = credentials.credential_holders(query.credential, (row[1] for row in rows))
        rows = [row for row in rows if row[1] in holders]
    within = geo.within_radius(query.place.lat, query.place.lon, query.radius_miles, rows)
    within.sort()
    start = (query.page - 1) * query.per_page
    page = within[start : start + query.per_page]
    if not page:
        return SearchResult(query, [], len(within))
    ids = [profile_id for _miles, profile_id in page]
    cards = _cards(ids)
    hits = [Hit(cards[pid], miles) for miles, pid in page if pid in cards]
    if count_impressions:
        impressions.count(ids)
    return SearchResult(query, hits, len(within))


# Built once: the ids go in as one expanding parameter, not as one bound value each.
_PAGE = select(*_CARD_COLUMNS).where(DirectoryProfile.id.in_(bindparam("ids", expanding=True)))
_LISTS = union_all(
    select(ProfileSpecialty.profile_id, literal("s"), ProfileSpecialty.specialty).where(
        ProfileSpecialty.profile_id.in_(bindparam("ids", expanding=True))
    ),
    select(ProfileProfession.profile_id, literal("p"), ProfileProfession.profession).where(
        ProfileProfession.profile_id.in_(bindparam("ids", expanding=True))
    ),
)


def _cards(ids: list[int]) -> dict[int, Card]:
    """The page's profiles and their two lists, in two statements."""
    cards = {row[0]: Card(*row) for row in read(_PAGE, {"ids": ids})}
    for profile_id, kind, key in read(_LISTS, {"ids": ids}):
        card = cards.get(profile_id)
        if card is not None:
            (card.specialty_keys if kind == "s" else card.profession_keys).append(key)
    for card in cards.values():
        card.specialty_keys.sort()
        card.profession_keys.sort()
    return cards
