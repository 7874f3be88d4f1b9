"""The admin's password confirmation: a card like the others, and nothing typed is lost."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import fresh_code, log_in, shot, submit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_INSET = """(card) => {
  const box = card.getBoundingClientRect();
  const inner = card.querySelector('h1').getBoundingClientRect();
  return Math.min(inner.left - box.left, box.right - inner.right, inner.top - box.top);
}"""


def test_the_confirmation_card_is_padded_and_keeps_the_comp_reason(
    page: Page, stack, shots, viewport
):
    admin = stack.prepare("busy_admin", f"confirm-admin-{viewport}@example.com")
    friend = stack.prepare("user", f"confirm-friend-{viewport}@example.com")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    used = {pyotp.TOTP(admin["totp_secret"]).now()}  # the sign-in's code is spent
    page.goto(f"/admin/members/{friend['id']}/")
    page.locator("form.comp-form #days").fill("45")
    page.locator("form.comp-form #reason").fill("Speaker at the spring conference")
    submit(page, "Grant comp membership")
    assert "/admin/confirm" in page.url
    card = page.locator(".admin-confirm")
    expect(card).to_be_visible()
    shot(page, shots, "confirm-card")
    assert card.evaluate(_INSET) >= 16, "the card's text touches its border"
    page.locator("#password").fill(admin["password"])
    page.locator("#code").fill(fresh_code(admin["totp_secret"], used))
    submit(page, "Confirm")
    expect(page.locator("form.comp-form #reason")).to_have_value("Speaker at the spring conference")
    expect(page.locator("form.comp-form #days")).to_have_value("45")
    shot(page, shots, "back-with-the-reason")
