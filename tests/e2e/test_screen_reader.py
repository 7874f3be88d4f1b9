"""What a screen reader is told without anyone moving focus: carried messages, exam warnings."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import log_in, shot, submit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_exam_clock_speaks_at_ten_five_and_one_minute_and_when_time_is_up(
    page: Page, stack, shots
):
    c = stack.prepare("candidate", "clock-candidate@example.com", "clock-assessor@example.com")
    log_in(page, c["email"], c["password"])
    # The page's clock stands still but for the steps below, so each lands where it says.
    page.clock.install(time=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    page.clock.pause_at(datetime(2026, 1, 5, 9, 0, 5, tzinfo=UTC))
    page.goto(f"/programs/{c['program_slug']}")
    submit(page, re.compile("^Start the exam"))
    clock, said = page.locator("#exam-clock"), page.locator("#exam-time-alert")
    expect(clock).to_have_attribute("aria-live", "off")
    left = int(clock.get_attribute("data-seconds") or 0)
    assert left > 630
    steps = [
        (630, ""),  # nothing is said while the clock merely ticks
        (590, "10 minutes left on the exam."),
        (310, "10 minutes left on the exam."),  # said once, not again every second
        (290, "5 minutes left on the exam."),
        (70, "5 minutes left on the exam."),
        (50, "1 minute left on the exam. Your answers are saved as you choose them."),
        (5, "1 minute left on the exam. Your answers are saved as you choose them."),
        (0, "Time is up. Your saved answers are being scored."),
    ]
    for remaining, words in steps:
        page.clock.run_for((left - remaining) * 1000)
        left = remaining
        expect(said).to_have_text(words)
        if remaining in (590, 290, 50):
            shot(page, shots, f"exam-{remaining}s-left")


def _log_in_to_the_catalog(page: Page, member: dict) -> None:
    """Sign in on the way to the course catalog, which greets with a carried message."""
    page.goto("/login?next=/courses/")
    page.locator("#email").fill(member["email"])
    page.locator("#password").fill(member["password"])
    submit(page, "Log in")
    expect(page).to_have_url(re.compile("/courses/$"))


# What the live regions held when the document was parsed, before any script ran on it.
_REGIONS_AT_LOAD = """
document.addEventListener("DOMContentLoaded", () => {
  window.regionsAtLoad = ["announce-status", "announce-alert"].map(
    (id) => document.getElementById(id) && document.getElementById(id).textContent);
});
"""


def test_a_message_carried_to_the_next_page_is_put_into_its_live_region_after_load(
    page: Page, stack, shots
):
    member = stack.prepare("user", f"carried-{page.viewport_size['width']}@example.com")
    page.add_init_script(_REGIONS_AT_LOAD)
    _log_in_to_the_catalog(page, member)
    welcome = page.locator(".flashes .flash-success")
    expect(welcome).to_contain_text("Welcome back")
    # Empty when the page loaded (a region that starts full is not read out), filled after.
    assert page.evaluate("() => window.regionsAtLoad") == ["", ""]
    expect(page.locator("#announce-status")).to_have_text(welcome.inner_text())
    expect(page.locator("#announce-alert")).to_have_text("")
    shot(page, shots, "welcome-back")


def test_a_carried_message_is_on_the_page_without_javascript(browser, stack, shots):
    member = stack.prepare("user", "carried-no-js@example.com")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=stack.base_url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        _log_in_to_the_catalog(page, member)
        expect(page.locator(".flashes .flash-success")).to_contain_text("Welcome back")
        expect(page.locator(".flashes .flash-success")).to_be_visible()
        expect(page.locator("#announce-status")).to_have_text("")
        shot(page, shots, "welcome-back-without-javascript")
    finally:
        context.close()
