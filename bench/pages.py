"""Campus pages against a bare Flask page under the same gunicorn: req/s, p50, p99 and the ratio.

    .venv/bin/python bench/pages.py [--seconds 5] [--rounds 3] [--connections 8] [--only TEXT]

Exits non-zero when a scenario misses its target ratio or a page answers errors.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Bench, Result, discover, median_result


def main() -> int:
    """Run every scenario against the bare page and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both apps")
    parser.add_argument("--only", help="run only scenarios whose name contains this text")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    scenarios = [s for s in discover() if not args.only or args.only in s.name]
    bench = Bench(workers=args.workers)
    try:
        bench.prepare(scenarios)
        ours = bench.serve("wsgi:app")
        bare = bench.serve("bench.bare_app:app")
        cookies = {s.login: bench.cookie_for(ours, s.login, s.path) for s in scenarios if s.login}
        bare_runs: list[Result] = []
        our_runs: dict[str, list[Result]] = {s.name: [] for s in scenarios}
        for _ in range(args.rounds):
            bare_runs.append(bench.wrk(bare + "/", args.seconds, args.connections))
            for s in scenarios:
                cookie = cookies.get(s.login) if s.login else None
                our_runs[s.name].append(
                    bench.wrk(ours + s.path, args.seconds, args.connections, cookie)
                )
    finally:
        bench.close()

    base = median_result(bare_runs)
    print(
        f"\n{args.rounds} rounds x {args.seconds}s, {args.connections} connections, "
        f"gunicorn {args.workers} workers; medians\n"
    )
    header = f"{'page':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7} {'target':>7}"
    print(header)
    print("-" * len(header))
    print(f"{'bare Flask page':<44} {base.rps:>9.0f} {base.p50_ms:>8.2f} {base.p99_ms:>8.2f}")
    failed = False
    for s in scenarios:
        r = median_result(our_runs[s.name])
        ratio = r.rps / base.rps if base.rps else 0.0
        target = f"{s.target:.2f}" if s.target else "-"
        miss = (s.target is not None and ratio < s.target) or r.non_2xx > 0
        failed |= miss
        flag = "  MISS" if miss else ""
        if r.non_2xx:
            flag += f" ({r.non_2xx} non-2xx)"
        print(
            f"{s.name:<44} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{ratio:>7.2f} {target:>7}{flag}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
