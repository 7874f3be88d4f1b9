"""ZIP codes to places and distances, offline; the search box always holds the whole circle."""

from __future__ import annotations

import math
import socket

import pytest

from campus.directory import geo

# ZCTA centres from the Census Bureau's 2020 Gazetteer (an independent source from the
# package's GeoNames coordinates), and the reference distance worked out from them with
# Vincenty's formula on the WGS 84 ellipsoid below (not with the code under test).
GAZETTEER = {
    "10001": (40.750633, -73.997177),
    "07030": (40.745255, -74.027933),
    "90210": (34.100517, -118.414712),
    "90401": (34.014151, -118.493358),
    "02116": (42.350920, -71.076560),
    "04101": (43.661394, -70.258091),
}


def _vincenty_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The ellipsoidal distance (WGS 84), Vincenty's inverse formula, in miles."""
    a, f = 6378137.0, 1 / 298.257223563
    b = (1 - f) * a
    u1 = math.atan((1 - f) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - f) * math.tan(math.radians(lat2)))
    big_l = math.radians(lon2 - lon1)
    lam = big_l
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(
            math.cos(u2) * sin_lam,
            math.cos(u1) * math.sin(u2) - math.sin(u1) * math.cos(u2) * cos_lam,
        )
        cos_sigma = math.sin(u1) * math.sin(u2) + math.cos(u1) * math.cos(u2) * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = math.cos(u1) * math.cos(u2) * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha**2
        cos_2sm = cos_sigma - 2 * math.sin(u1) * math.sin(u2) / cos2_alpha
        c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * f * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2))
        )
        if abs(lam - previous) < 1e-12:
            break
    u_sq = cos2_alpha * (a**2 - b**2) / b**2
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta = (
        big_b
        * sin_sigma
        * (
            cos_2sm
            + big_b
            / 4
            * (
                cos_sigma * (-1 + 2 * cos_2sm**2)
                - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)
            )
        )
    )
    return b * big_a * (sigma - delta) / 1609.344


@pytest.mark.parametrize(
    ("origin", "target", "about"),
    [
        ("10001", "07030", 1.7),  # Manhattan (Chelsea) to Hoboken, across the Hudson
        ("90210", "90401", 7.5),  # Beverly Hills to Santa Monica
        ("02116", "04101", 99.5),  # Boston to Portland, Maine
    ],
)
def test_distances_between_zip_codes_match_an_independent_reference(origin, target, about):
    reference = _vincenty_miles(*GAZETTEER[origin], *GAZETTEER[target])
    assert reference == pytest.approx(about, abs=0.2)  # the reference itself is what we think
    a, b = geo.locate(origin), geo.locate(target)
    ours = geo.distance_miles(a.lat, a.lon, b.lat, b.lon)
    # The two sources place a ZIP's centre a little differently; the distance agrees closely.
    assert ours == pytest.approx(reference, abs=0.6 + reference * 0.01)


def test_a_zip_code_is_found_without_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the ZIP lookup tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    geo._lookup.cache_clear()
    place = geo.locate("99501")
    assert (place.city, place.state) == ("Anchorage", "AK")
    assert place.lat == pytest.approx(61.2, abs=0.2)


@pytest.mark.parametrize(
    ("raw", "expected"), [("02134", "02134"), (" 02134 ", "02134"), ("02134-1234", "02134")]
)
def test_zip_codes_are_read_the_way_people_type_them(raw, expected):
    assert geo.clean_zip(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "", "1234", "123456", "abcde", "1234\uff15", "02134-12", None,
        # ZIP+4 is four ASCII digits too: str.isdigit() also passes other scripts' and "\u00b3".
        "02134-\u0661\u0662\u0663\u0664", "02134-12\u00b34", "02134-\uff11\uff12\uff13\uff14",
    ],
)  # fmt: skip
def test_a_malformed_zip_code_is_refused_with_a_message(raw):
    with pytest.raises(geo.LocationError, match="5-digit"):
        geo.clean_zip(raw)


def test_an_unknown_zip_code_is_refused_with_a_message():
    with pytest.raises(geo.LocationError, match="do not know the ZIP code 00000"):
        geo.locate("00000")


@pytest.mark.parametrize("raw", ["09001", "96201", "34001"])
def test_a_military_zip_code_is_refused_as_no_place_on_the_map(raw):
    """APO/FPO/DPO ZIPs sit at 0, 0 in the data: all of them were one spot off West Africa."""
    with pytest.raises(geo.LocationError, match="military"):
        geo.locate(raw)


@pytest.mark.parametrize(
    "raw", ["0", "-5", "251", "nan", "inf", "ten", "1e400", "1_0", "1e1", "\u0663", "\uff13"]
)
def test_a_radius_outside_the_range_is_refused(raw):
    with pytest.raises(geo.LocationError):
        geo.clean_radius(raw)


def _destination(lat: float, lon: float, miles: float, bearing: float) -> tuple[float, float]:
    """The point `miles` away on a bearing, on the sphere (the direct problem)."""
    d = miles / geo.EARTH_RADIUS_MILES
    phi1, lam1, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(d) * math.cos(phi1),
        math.cos(d) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


def _inside(box: geo.Box, lat: float, lon: float) -> bool:
    in_lon = (
        (lon >= box.lon_min or lon <= box.lon_max)
        if box.wraps
        else (box.lon_min <= lon <= box.lon_max)
    )
    return box.lat_min <= lat <= box.lat_max and in_lon


@pytest.mark.parametrize(
    ("lat", "lon", "miles"),
    [
        (40.75, -74.0, 25),  # New York
        (25.77, -80.19, 100),  # Miami
        (71.29, -156.79, 250),  # Utqiagvik, Alaska: far north, the box is wide
        (51.88, 179.9, 50),  # the Aleutians: the circle crosses the antimeridian
        (52.0, -179.95, 50),  # ... from the other side
        (19.9, -155.6, 1),  # Hawaii, a tiny radius
    ],
)
def test_the_box_holds_every_point_of_the_circle(lat, lon, miles):
    box = geo.bounding_box(lat, lon, miles)
    for bearing in range(0, 360, 3):
        p_lat, p_lon = _destination(lat, lon, miles * 0.9999, bearing)
        assert _inside(box, p_lat, p_lon), (bearing, p_lat, p_lon, box)
        assert geo.distance_miles(lat, lon, p_lat, p_lon) == pytest.approx(miles * 0.9999, rel=1e-6)


def test_the_box_wraps_at_the_antimeridian_and_stays_tight_elsewhere():
    assert geo.bounding_box(51.88, 179.9, 50).wraps
    box = geo.bounding_box(40.75, -74.0, 25)
    assert not box.wraps
    # Tight: 25 miles is about 0.36 degrees of latitude and 0.48 of longitude at New York.
    assert box.lat_max - box.lat_min == pytest.approx(0.7235, abs=0.001)
    assert box.lon_max - box.lon_min == pytest.approx(0.955, abs=0.01)


def test_a_circle_around_a_pole_takes_every_longitude():
    box = geo.bounding_box(89.5, 10.0, 100)
    assert (box.lon_min, box.lon_max) == (-180.0, 180.0)


@pytest.mark.parametrize(
    ("miles", "text"), [(0.0, "under 0.1 mi"), (4.24, "4.2 mi"), (12.0, "12.0 mi")]
)
def test_distances_are_written_in_miles_with_one_decimal(miles, text):
    assert geo.format_miles(miles) == text


@pytest.mark.parametrize(
    ("lat", "lon", "miles"),
    [(40.75, -74.0, 25), (25.77, -80.19, 100), (51.88, 179.9, 50), (19.9, -155.6, 1)],
)
def test_the_dot_product_test_is_the_great_circle_distance(lat, lon, miles):
    """a·b >= cos(r/R) holds just inside the radius and fails just outside, on every bearing."""
    centre = geo.unit_vector(lat, lon)
    threshold = geo.min_dot(miles)
    for bearing in range(0, 360, 10):
        for factor, inside in ((0.999, True), (1.001, False)):
            p_lat, p_lon = _destination(lat, lon, miles * factor, bearing)
            point = geo.unit_vector(p_lat, p_lon)
            dot = sum(a * b for a, b in zip(centre, point, strict=True))
            assert (dot >= threshold) is inside, (bearing, factor)
            # And the product orders as the distance does: R·acos(a·b) is the haversine's.
            assert geo.EARTH_RADIUS_MILES * math.acos(min(1.0, dot)) == pytest.approx(
                geo.distance_miles(lat, lon, p_lat, p_lon), rel=1e-6
            )


def test_a_unit_vector_has_length_one_and_points_north_at_the_pole():
    for lat, lon in ((0.0, 0.0), (40.75, -74.0), (-33.9, 151.2), (89.9, 10.0)):
        assert sum(c * c for c in geo.unit_vector(lat, lon)) == pytest.approx(1.0)
    assert geo.unit_vector(90.0, 0.0) == pytest.approx((0.0, 0.0, 1.0), abs=1e-12)


@pytest.mark.parametrize(
    ("lat", "lon", "miles"),
    [(40.75, -74.0, 25), (25.77, -80.19, 100), (-14.28, -170.7, 50), (40.0, -105.0, 6.9)],
)
def test_every_point_of_the_box_lies_in_a_band_the_search_seeks(lat, lon, miles):
    """Including latitudes on a band's edge (40.7 / 0.1 is 406.99999...): both sides floor alike."""
    box = geo.bounding_box(lat, lon, miles)
    bands = geo.lat_bands(box)
    assert bands == sorted(set(bands)) and len(bands) <= (box.lat_max - box.lat_min) / 0.1 + 2
    edges = [round(b * geo.LAT_BAND_DEGREES, 1) for b in range(bands[0], bands[-1] + 2)]
    steps = [box.lat_min + (box.lat_max - box.lat_min) * i / 400 for i in range(401)]
    for p_lat in [*steps, *(e for e in edges if box.lat_min <= e <= box.lat_max)]:
        assert geo.lat_band(p_lat) in bands, p_lat


def test_bands_are_a_tenth_of_a_degree_and_count_down_south_of_the_equator():
    assert [geo.lat_band(v) for v in (0.0, 0.05, 0.1, -0.05, -0.1, 40.75, -14.28)] == [
        0,
        0,
        1,
        -1,
        -1,
        407,
        -143,
    ]
