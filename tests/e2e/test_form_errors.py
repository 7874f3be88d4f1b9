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


def _save_profile(page: Page) -> None:
    page.goto("/directory/me")
    page.locator("#display_name").fill("Robin Ash, LMT")
    page.locator("#zip_code").fill("10001")
    page.locator("input[name='professions']").first.check()
    page.locator("input[name='specialties']").first.check()
    submit(page, "Save profile")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_directory_profile_form_opens_at_its_errors(page: Page, stack, shots):
    member = stack.prepare("user", "profile-errors@example.com", "--member")
    log_in(page, member["email"], member["password"])
    _save_profile(page)
    # A saved profile has its status above the form; one specialty too many errs in a fieldset.
    for box in page.locator("input[name='specialties']").all()[:9]:
        box.check()
    _assert_first_error_in_view(page, "Save profile")
    shot(page, shots, "directory-profile-errors")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_refused_zip_code_on_the_directory_profile_is_in_view_and_focused(
    page: Page, stack, shots
):
    # The ZIP field sits a screen below the form's top on a phone: opening at the form's top
    # (a #fragment, which also stops autofocus) left its error out of view.
    member = stack.prepare("user", "profile-zip@example.com", "--member")
    log_in(page, member["email"], member["password"])
    _save_profile(page)
    page.locator("#zip_code").fill("00000")
    _assert_first_error_in_view(page, "Save profile")
    expect(page.locator("#zip_code")).to_be_focused()
    shot(page, shots, "directory-profile-zip-error")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_saved_directory_profile_says_so_where_the_member_looks(page: Page, stack, shots):
    member = stack.prepare("user", "profile-saved@example.com", "--member")
    log_in(page, member["email"], member["password"])
    _save_profile(page)
    expect(page.locator(".flash-success", has_text="Your profile is saved")).to_be_in_viewport()
    shot(page, shots, "directory-profile-saved")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_token_form_opens_at_its_error_then_at_the_new_token(page: Page, stack, shots):
    # The form sits at the foot of the security page: a refusal opens at the field to correct,
    # and the token made opens at its value, shown this once.
    member = stack.prepare("user", "token-maker@example.com")
    log_in(page, member["email"], member["password"])
    page.goto("/account/security")
    page.locator("#name").fill("Clinic records")
    page.locator("#token-password").fill("not my password")
    submit(page, "Make a token")
    expect(page.locator("#token-password")).to_be_focused()
    expect(page.locator("#token-password-msg .field-error")).to_be_in_viewport()
    shot(page, shots, "token-refused")
    page.locator("#token-password").fill(member["password"])
    submit(page, "Make a token")
    expect(page.locator("#new-token")).to_be_focused()
    expect(page.locator(".token-value")).to_be_in_viewport()
    wider = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert wider <= 0, "the new token makes the page scroll sideways"
    shot(page, shots, "token-made")
