"""Do a reset request and a sign-up take as long for a known address as for an unknown one?

    .venv/bin/python bench/account_enumeration.py [--rounds 40]

Times the two pages in alternation (tasks are queued for a worker, as in production) and the
weak-password check on its own; prints medians and the known/unknown ratio. Exits non-zero when a
ratio is outside 0.8-1.25.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_environment


def _timed(post, path: str, data: dict) -> float:
    started = time.perf_counter()
    response = post(path, data=data)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def main() -> int:
    """Time known against unknown addresses on the reset and sign-up pages."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    bench_environment("campus-enumeration-")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"  # the request queues; a worker would send

    from flask_migrate import upgrade

    from campus import create_app
    from campus.accounts.rules import password_problem
    from campus.accounts.services import create_admin
    from campus.extensions import db

    app = create_app()
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
        create_admin("known@example.com", "lantern orchard velvet", full_name="Kim Known")
        db.session.commit()
    client = app.test_client()
    signup = {"full_name": "Riley Moss", "password": "a sturdy passphrase", "profession": "other"}
    times: dict[str, list[float]] = {k: [] for k in ("reset known", "reset unknown")}
    times |= {"signup taken": [], "signup new": []}
    for n in range(args.rounds + 3):
        pairs = [
            ("reset known", "/password/reset", {"email": "known@example.com"}),
            ("reset unknown", "/password/reset", {"email": f"ghost{n}@example.com"}),
            ("signup taken", "/signup", {**signup, "email": "known@example.com"}),
            ("signup new", "/signup", {**signup, "email": f"new{n}@example.com"}),
        ]
        for name, path, data in pairs if n % 2 else reversed(pairs):
            elapsed = _timed(client.post, path, data)
            if n >= 3:  # the first rounds warm caches and the connection pool
                times[name].append(elapsed)
    app.extensions["celery"].control.purge()

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nmedian of {args.rounds} requests each (ms)\n")
    for name, value in medians.items():
        print(f"  {name:<15} {value:7.1f}")
    ratios = {
        "reset": medians["reset known"] / medians["reset unknown"],
        "signup": medians["signup taken"] / medians["signup new"],
    }
    for name, ratio in ratios.items():
        print(f"  {name} known/unknown ratio: {ratio:.2f}")

    samples = {"typical (19 chars)": "a sturdy passphrase", "worst (128 chars)": "Xq7!" * 32}
    print("\nweak-password check (zxcvbn), median of 50 calls:")
    for label, password in samples.items():
        runs = []
        for _ in range(50):
            started = time.perf_counter()
            password_problem(password, ["known@example.com", "Kim Known"])
            runs.append((time.perf_counter() - started) * 1000)
        print(f"  {label:<20} {statistics.median(runs):6.2f} ms")
    return 0 if all(0.8 <= r <= 1.25 for r in ratios.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
