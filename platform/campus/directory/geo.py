"""Where a US ZIP code is, and how far apart two places are: offline, no geocoding service.

ZIP centres come from the `zipcodes` package, whose data (USPS ZIPs with GeoNames coordinates)
is compiled into the package itself: no file is fetched and no network is used at run time.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from campus.integers import is_digits, is_plain_decimal

EARTH_RADIUS_MILES = 3958.7613
MAX_RADIUS_MILES = 250
# The height of a latitude band (about 6.9 miles): profiles are indexed by band, then longitude,
# so a search seeks each band its box covers and reads only that band's stretch of longitude.
LAT_BAND_DEGREES = 0.1
_ZIP = re.compile(r"^[0-9]{5}$")


class LocationError(ValueError):
    """A ZIP code, radius or filter that cannot be searched; the message says why.

    `field` names the search's input it is about (zip, radius, specialty, profession,
    credential), so a form or an API client can show the message next to it.
    """

    def __init__(self, message: str, field: str = "zip") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ZipPlace:
    """The centre of one ZIP code."""

    zip_code: str
    city: str
    state: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Box:
    """A latitude/longitude box holding every point within a radius of a centre.

    Longitudes past the antimeridian wrap: `lon_min > lon_max` means the box crosses it.
    """

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    @property
    def wraps(self) -> bool:
        return self.lon_min > self.lon_max


def clean_zip(raw: str | None) -> str:
    """Return the five-digit ZIP in what a person typed ("02134", "02134-1234"), or raise."""
    text = (raw or "").strip()
    # The +4 in ASCII digits: str.isdigit() also passes other scripts' digits and "³".
    if len(text) == 10 and text[5] == "-" and is_digits(text[6:]):
        text = text[:5]
    if not (text.isascii() and _ZIP.match(text)):
        raise LocationError("Enter a 5-digit US ZIP code, for example 10001.")
    return text


@functools.lru_cache(maxsize=8192)
def _lookup(zip_code: str) -> ZipPlace | None:
    import zipcodes

    try:
        found = zipcodes.matching(zip_code)
    except (TypeError, ValueError):
        return None
    for row in found:
        if row.get("zip_code_type") == "MILITARY":
            # APO/FPO/DPO mail goes to units anywhere in the world; the data puts every one at
            # 0, 0 (off West Africa), where all such profiles were found from any other base.
            return None
        try:
            lat, lon = float(row["lat"]), float(row["long"])
        except (KeyError, TypeError, ValueError):
            continue
        if not on_map(lat, lon):
            continue  # no coordinates in the data (some PO box and single-firm ZIPs)
        return ZipPlace(zip_code, row.get("city") or "", row.get("state") or "", lat, lon)
    return None


def _is_military(zip_code: str) -> bool:
    import zipcodes

    return any(row.get("zip_code_type") == "MILITARY" for row in zipcodes.matching(zip_code))


def locate(raw_zip: str | None) -> ZipPlace:
    """Find a ZIP code's centre, or raise LocationError with a message for the person."""
    zip_code = clean_zip(raw_zip)
    place = _lookup(zip_code)
    if place is None and _is_military(zip_code):
        raise LocationError(
            f"The ZIP code {zip_code} is a military (APO/FPO/DPO) address, not a place on the "
            "map. Enter the ZIP code of a place clients can come to."
        )
    if place is None and _is_unmapped(zip_code):
        raise LocationError(
            f"The ZIP code {zip_code} has no place on our map (it serves post office boxes or a "
            "single business). Enter the ZIP code of a street address."
        )
    if place is None:
        raise LocationError(f"We do not know the ZIP code {zip_code}. Check it and try again.")
    return place


def on_map(lat: float, lon: float) -> bool:
    """Tell whether a point is a real location, not the 0, 0 the ZIP data gives one it lacks.

    No US ZIP lies where the equator meets the prime meridian (off West Africa): a profile
    stored there was saved before such ZIPs were refused, and has no place to be searched from.
    """
    return not (lat == 0 and lon == 0)


def _is_unmapped(zip_code: str) -> bool:
    import zipcodes

    return bool(zipcodes.matching(zip_code))


def clean_radius(raw: str | float | int | None, default: int = 25) -> float:
    """Return a search radius in miles (1 to MAX_RADIUS_MILES), or raise LocationError."""
    if raw is None or raw == "":
        return float(default)
    # float() also reads "1_0", "1e1" and other scripts' digits ("٣"): a distance is plain.
    if isinstance(raw, str) and not is_plain_decimal(raw.strip()):
        raise LocationError("Choose a distance in miles, for example 25.", "radius")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise LocationError("Choose a distance in miles, for example 25.", "radius") from None
    if not math.isfinite(value) or not 1 <= value <= MAX_RADIUS_MILES:
        raise LocationError(f"Choose a distance between 1 and {MAX_RADIUS_MILES} miles.", "radius")
    return value


def distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points, in miles (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """The point on the unit sphere at this latitude and longitude (x, y, z)."""
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def min_dot(radius_miles: float) -> float:
    """The smallest dot product of two unit vectors no farther apart than the radius.

    The great-circle distance is R·acos(a·b), so "within the radius" is a·b >= cos(r/R): plain
    arithmetic a database can run on stored vectors, and the same order as the distance.
    """
    return math.cos(radius_miles / EARTH_RADIUS_MILES)


def bounding_box(lat: float, lon: float, radius_miles: float) -> Box:
    """The smallest latitude/longitude box sure to hold the circle of that radius."""
    dlat = math.degrees(radius_miles / EARTH_RADIUS_MILES)
    lat_min, lat_max = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if lat_min <= -90.0 or lat_max >= 90.0:
        return Box(lat_min, lat_max, -180.0, 180.0)  # the circle holds a pole: every longitude
    # The widest longitude span of the circle (at the latitude where its edge is tangent).
    ratio = math.sin(radius_miles / EARTH_RADIUS_MILES) / math.cos(math.radians(lat))
    if ratio >= 1:
        return Box(lat_min, lat_max, -180.0, 180.0)
    dlon = math.degrees(math.asin(ratio))
    lon_min, lon_max = lon - dlon, lon + dlon
    if lon_min < -180.0:
        lon_min += 360.0
    if lon_max > 180.0:
        lon_max -= 360.0
    return Box(lat_min, lat_max, lon_min, lon_max)


def lat_band(lat: float) -> int:
    """The latitude band a point lies in (bands are LAT_BAND_DEGREES high, 0 at the equator)."""
    # Division and floor never decrease as lat grows, so a point within [lat_min, lat_max]
    # always lies in a band between lat_band(lat_min) and lat_band(lat_max).
    return math.floor(lat / LAT_BAND_DEGREES)


def lat_bands(box: Box) -> list[int]:
    """Every latitude band a box touches, south to north."""
    return list(range(lat_band(box.lat_min), lat_band(box.lat_max) + 1))


def format_miles(miles: float) -> str:
    """Write a distance the way the results show it: "4.2 mi", "under 0.1 mi"."""
    if miles < 0.05:
        return "under 0.1 mi"
    return f"{miles:.1f} mi"
