"""What a screen reader is told without anyone moving focus: the exam's time warnings."""

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
