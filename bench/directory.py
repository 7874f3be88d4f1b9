"""The directory's radius search at scale: 50,000 published profiles spread over the US.

    .venv/bin/python bench/directory.py [--profiles 50000] [--seconds 5] [--rounds 3]
        [--connections 8] [--workers 2] [--ports 5151,5152]

With DATABASE_URL set (PostgreSQL) the profiles go there; SQLite otherwise. Prints:
- the SQL statements one search runs with 100 profiles and with all of them (they must be
  equal: the page of the nearest within the radius with the number found, and the credentials
  to filter by; impressions are counted in memory and written in batches, not per search);
- the search page (25 miles around a ZIP, one specialty) against the bare Flask page under
  the same gunicorn, in alternating wrk rounds: req/s, p50, p99 and the ratio (target 0.35);
  and, for where the time goes, the same page before any search (the layout and the search
  form, no results).
Exits non-zero when the counts differ, the ratio misses, or a page answers errors.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Bench, Result, median_result

SEARCH = "/directory/?zip=10001&radius=25&specialty=trigger-point-therapy"
FORM = "/directory/"
TARGET = 0.35
SMALL = 100
BATCH = 2000


def _zip_centres() -> list[tuple[str, str, str, float, float]]:
    """Every standard US ZIP code with coordinates, from the offline data the app uses."""
    import zipcodes

    centres = []
    for row in zipcodes.list_all():
        if row.get("zip_code_type") != "STANDARD" or not row.get("lat"):
            continue
        centres.append(
            (
                row["zip_code"],
                row["city"][:100],
                row["state"][:2],
                float(row["lat"]),
                float(row["long"]),
            )
        )
    return centres


def _within_search(centre: tuple) -> bool:
    from campus.directory import geo

    origin = geo.locate("10001")
    return geo.distance_miles(origin.lat, origin.lon, centre[3], centre[4]) <= 25


def _insert_profiles(start: int, stop: int, centres: list, rng: random.Random) -> None:
    """Insert published profiles (and their members) numbered start..stop-1, in batches."""
    from sqlalchemy import insert

    from campus.accounts.models import User
    from campus.directory import geo, taxonomy
    from campus.directory.models import DirectoryProfile, ProfileProfession, ProfileSpecialty
    from campus.extensions import db
    from campus.models.base import utcnow

    specialties = list(taxonomy.specialties())
    professions = list(taxonomy.professions())
    now = utcnow()
    for first in range(start, stop, BATCH):
        last = min(stop, first + BATCH)
        users = [
            {
                "email": f"practitioner{n}@bench.example",
                "password_hash": "!",  # nobody signs in as these members
                "full_name": f"Practitioner {n}",
                "profession": "massage_therapist",
                "role": "student",
                "email_verified_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(first, last)
        ]
        ids = db.session.scalars(insert(User).returning(User.id), users).all()
        profiles, kept, chosen_professions = [], [], []
        for n, user_id in zip(range(first, last), ids, strict=True):
            zip_code, city, state, lat, lon = rng.choice(centres)
            profiles.append(
                {
                    "user_id": user_id,
                    "slug": f"practitioner-{n}",
                    "display_name": f"Practitioner {n}, LMT",
                    "practice_name": f"Bodywork {n}",
                    "street": "",
                    "city": city,
                    "state": state,
                    "zip_code": zip_code,
                    "show_street": False,
                    "lat": lat,
                    "lon": lon,
                    **dict(
                        zip(("unit_x", "unit_y", "unit_z"), geo.unit_vector(lat, lon), strict=True)
                    ),
                    "lat_band": geo.lat_band(lat),
                    "bio": "",
                    "bio_html": "",
                    "website": "",
                    "phone": "",
                    "accepting_clients": True,
                    "contact_enabled": True,
                    "published_at": now,
                    "listed": True,
                    "hidden_reason": "",
                    "impressions": 0,
                    "messages_received": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            chosen = rng.sample(specialties, 3)
            kept.append(chosen)
            profession = rng.choice(professions)
            chosen_professions.append(profession)
            profiles[-1]["specialty_mask"] = taxonomy.mask(chosen, taxonomy.specialty_bit)
            profiles[-1]["profession_mask"] = taxonomy.profession_bit(profession)
        profile_ids = db.session.scalars(
            insert(DirectoryProfile).returning(DirectoryProfile.id), profiles
        ).all()
        db.session.execute(
            insert(ProfileSpecialty),
            [
                {"profile_id": pid, "specialty": s}
                for pid, chosen in zip(profile_ids, kept, strict=True)
                for s in chosen
            ],
        )
        db.session.execute(
            insert(ProfileProfession),
            [
                {"profile_id": pid, "profession": profession}
                for pid, profession in zip(profile_ids, chosen_professions, strict=True)
            ],
        )
        db.session.commit()


def _statements_per_search(app) -> tuple[int, int]:
    """(statements, results) of one search through the app, warmed once."""
    from sqlalchemy import event

    from campus.extensions import db

    client = app.test_client()
    client.get(SEARCH)
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get(SEARCH)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.status_code == 200, page.status_code
    match = re.search(r"([\d,]+) practitioners? within", page.get_data(as_text=True))
    return len(seen), int(match.group(1).replace(",", "")) if match else 0


def _warm(url: str) -> None:
    """Load the page once per worker before measuring (and fail loudly if it errors)."""
    import urllib.request

    for _ in range(4):
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200, response.status


def _fill_and_count(profiles: int, database: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Insert the profiles; return (statements, results) of a search at 100 and at all."""
    from campus import create_app

    app = create_app()
    rng = random.Random(17)
    centres = _zip_centres()
    near = [c for c in centres if _within_search(c)]
    with app.app_context():
        # The small directory has people around the searched ZIP too, so both searches
        # show a page of results (an empty one would cost fewer statements).
        _insert_profiles(0, SMALL // 2, near, rng)
        _insert_profiles(SMALL // 2, SMALL, centres, rng)
        small = _statements_per_search(app)
        started = time.monotonic()
        _insert_profiles(SMALL, profiles, centres, rng)
        filled = time.monotonic() - started
        if database.startswith("postgresql"):
            from campus.extensions import db

            # As autovacuum leaves a table soon after a bulk load: statistics, and a visibility
            # map that lets the search read its index alone (no heap fetch per profile).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        large = _statements_per_search(app)
    print(
        f"\n{database}: {profiles:,} profiles over {len(centres):,} ZIP codes "
        f"(inserted in {filled:.0f}s)"
    )
    print(f"search: {SEARCH}")
    print(
        f"statements per search: {small[0]} at {SMALL} profiles ({small[1]} found), "
        f"{large[0]} at {profiles:,} ({large[1]} found)",
        flush=True,
    )
    return small, large


def main() -> int:
    """Fill the directory, count statements at two sizes, then load the search page."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=5, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both apps")
    parser.add_argument("--ports", default="", help="two ports for the servers, e.g. 5151,5152")
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="keep the profiles already in DATABASE_URL (a previous run's): skip filling and "
        "counting, only load the page",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    ports = [int(p) for p in args.ports.split(",") if p] or [None, None]

    bench = Bench(workers=args.workers)
    bench.start_timeout = 120
    database = bench.env["DATABASE_URL"].split("://", 1)[0]
    small = large = (0, 0)  # not counted with --load-only
    try:
        bench.prepare([])

        if not args.load_only:
            small, large = _fill_and_count(args.profiles, database)

        ours = bench.serve("wsgi:app", ports[0])
        bare = bench.serve("bench.bare_app:app", ports[1])
        _warm(ours + SEARCH)
        bare_runs: list[Result] = []
        our_runs: list[Result] = []
        form_runs: list[Result] = []
        for _ in range(args.rounds):
            bare_runs.append(bench.wrk(bare + "/", args.seconds, args.connections))
            our_runs.append(bench.wrk(ours + SEARCH, args.seconds, args.connections))
            form_runs.append(bench.wrk(ours + FORM, args.seconds, args.connections))
    finally:
        bench.close()

    base, mine, form = median_result(bare_runs), median_result(our_runs), median_result(form_runs)
    ratio = mine.rps / base.rps if base.rps else 0.0
    print(
        f"\n{args.rounds} rounds x {args.seconds}s, {args.connections} connections, "
        f"gunicorn {args.workers} workers; medians (ratios per round: "
        f"{', '.join(f'{o.rps / b.rps:.2f}' for o, b in zip(our_runs, bare_runs, strict=True))})\n"
    )
    header = f"{'page':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7} {'target':>7}"
    print(header)
    print("-" * len(header))
    print(f"{'bare Flask page':<44} {base.rps:>9.0f} {base.p50_ms:>8.2f} {base.p99_ms:>8.2f}")
    print(
        f"{'directory page before a search (no target)':<44} {form.rps:>9.0f} "
        f"{form.p50_ms:>8.2f} {form.p99_ms:>8.2f} {form.rps / base.rps if base.rps else 0:>7.2f}"
    )
    flag = "" if ratio >= TARGET and not mine.non_2xx else "  MISS"
    if mine.non_2xx:
        flag += f" ({mine.non_2xx} non-2xx)"
    print(
        f"{'directory search, 25 mi, one specialty':<44} {mine.rps:>9.0f} {mine.p50_ms:>8.2f} "
        f"{mine.p99_ms:>8.2f} {ratio:>7.2f} {TARGET:>7.2f}{flag}"
    )
    same = small[0] == large[0]
    if not same:
        print("MISS: the statements per search grew with the number of profiles")
    return 0 if same and not flag else 1


if __name__ == "__main__":
    sys.exit(main())
