"""A form sent with a mistake brings the person back to it, its errors in view.

A form that sits below the fold on a 390 px screen (the directory's contact form, the free
guide's form) is answered with the whole page again; the page must open at
the form, not at its top, or the person sees no error and thinks nothing happened.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campus.content.demo import GUIDE_SLUG
from tests.e2e.browsing import log_in, shot, submit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _assert_first_error_in_view(page: Page, button: str) -> None:
    submit(page, button)
    error = page.locator(".field-error").first
    expect(error).to_be_attached()
    expect(error).to_be_in_viewport()


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_contact_form_opens_at_its_errors(page: Page, shots):
    page.goto("/directory/?zip=10001")
    page.locator(".directory-card-name a").first.click()
    _assert_first_error_in_view(page, "Send message")
    shot(page, shots, "contact-errors")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_free_guide_form_opens_at_its_errors(page: Page, shots):
    page.goto(f"/articles/downloads/{GUIDE_SLUG}")
    _assert_first_error_in_view(page, "Email me the guide")
    shot(page, shots, "download-errors")


def test_every_field_with_an_error_is_outlined_in_red(page: Page, shots):
    page.goto("/signup")
    submit(page, "Create account")
    invalid = page.locator(".field [aria-invalid='true']")
    expect(invalid.first).to_be_attached()
    borders = invalid.evaluate_all(
        "(els) => els.map((el) => [el.id, getComputedStyle(el).borderTopColor])"
    )
    danger = page.evaluate(
        "() => { const probe = document.createElement('i'); probe.style.color = 'var(--danger)';"
        " document.body.append(probe); return getComputedStyle(probe).color; }"
    )
    assert [name for name, colour in borders if colour != danger] == [], borders
    shot(page, shots, "signup-errors")


def test_a_refused_practical_video_says_why_where_the_candidate_looks(page: Page, stack, shots):
    width = page.viewport_size["width"]
    c = stack.prepare(
        "candidate", f"refused-video-{width}@example.com", f"refused-assessor-{width}@example.com"
    )
    log_in(page, c["email"], c["password"])
    page.goto(f"/programs/{c['program_slug']}")
    page.locator("#video").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a video"}]
    )
    submit(page, "Upload for review")
    refused = page.locator(".flash-error", has_text="The video was not accepted")
    expect(refused).to_be_in_viewport()
    shot(page, shots, "practical-refused")
