"""Signing from many threads at once, as a threaded web or worker process does."""

from __future__ import annotations

from campus.certificates import signing
from tests import support


def test_signing_in_many_threads_at_once_never_lets_the_algorithm_warning_through(app):
    # warnings.catch_warnings() swaps the process-wide filter list: one thread leaving it put
    # back the list another thread was still signing under, so the "EdDSA is deprecated"
    # warning escaped at random (and failed this suite, which treats warnings as errors).
    def run(_n: int) -> None:
        with app.app_context():
            for _ in range(300):
                signing.sign({"sub": "x"})

    assert support.hammer_in_threads(run, threads=8) == []
