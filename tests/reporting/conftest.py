"""A fake CE Broker for each reporting test that wants one."""

from __future__ import annotations

import pytest

from tests.reporting.fake_cebroker import FakeCEBroker


@pytest.fixture
def fake_cebroker():
    """A fake CE Broker web service on a free localhost port."""
    fake = FakeCEBroker().start()
    yield fake
    fake.stop()
