"""`flask db upgrade` started on several hosts at once: one upgrades, the others wait for it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.scratch import scratch_database
from tests.support import ROOT


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_hosts_upgrading_an_empty_database_at_once_both_succeed(backend, tmp_path):
    """A deploy that migrates from every web host must not fail all but one of them."""
    url = scratch_database(backend, tmp_path)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / f"host{n}")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in (1, 2)
    ]
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n".join(o[-2000:] for o in outputs)
