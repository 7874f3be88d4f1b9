"""The licenses page and the renewal trackers in a real browser at phone width."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.licenses.helpers import add_license, import_shipped_rules
from tests.main.test_narrow_screens import (  # noqa: F401  (fixtures)
    _overflow,
    _shoot,
    _signed_in_page,
    browser,
    pytestmark,
    served,
)
from tests.support import create_user


def test_two_trackers_and_the_licenses_page_fit_a_390_px_screen(app, served, browser, tmp_path):  # noqa: F811
    today = datetime.now(UTC).date()
    with app.app_context():
        import_shipped_rules()
        user = create_user(full_name="Maximiliana Featherstonehaugh-Wolfeschlegel")
        add_license(user.id, "FL", "MA123456", expires_on=today + timedelta(days=300))
        add_license(user.id, "WA", "MA60123456789", expires_on=today + timedelta(days=25))
        email = user.email
    page = _signed_in_page(browser, served, email)
    page.goto(f"{served}/learning/")
    assert page.locator(".tracker").count() == 2
    _shoot(page, "trackers-390", tmp_path)
    assert _overflow(page) <= 0
    for box in page.locator(".tracker").all():
        bounds = box.bounding_box()
        assert bounds is not None and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= 390
    page.goto(f"{served}/account/licenses")
    _shoot(page, "licenses-390", tmp_path)
    assert _overflow(page) <= 0
    assert page.get_by_role("button", name="Stop reminders").first.is_visible()
