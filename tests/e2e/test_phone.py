"""On a phone (390 px) a page fits the screen: nothing makes the whole page scroll sideways.

A wide table may scroll inside its own box; the page around it must not.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_WIDER_THAN_SCREEN = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_an_admin_list_of_many_pages_fits_the_phone(page: Page, stack, shots):
    admin = stack.prepare("busy_admin", "phone-admin@example.com")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/audit/?page=4")
    expect(page.locator(".pagination .page-item").first).to_be_visible()
    shot(page, shots, "audit-log-pages")
    assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, "the page scrolls sideways"
