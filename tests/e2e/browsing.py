"""What a person does in the browser, as helpers: sign in, take a screenshot, run axe-core."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

# axe-core's rules for WCAG 2.1 levels A and AA; only serious and critical findings fail.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}


def shot(page: Page, folder: Path, name: str) -> Path:
    """Save a full-page screenshot of what the page shows now."""
    path = folder / f"{len(list(folder.glob('*.png'))) + 1:02d}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def submit(page: Page, button: str) -> None:
    """Press a form's button by its visible name and wait for the next page to load."""
    page.get_by_role("button", name=button).first.click()
    page.wait_for_load_state()


def fresh_code(secret: str, used: set[str] | None = None) -> str:
    """A TOTP code for `secret` that was not used yet (a used step is never accepted again)."""
    totp = pyotp.TOTP(secret)
    used = used if used is not None else set()
    while True:
        code = totp.now()
        if code not in used:
            used.add(code)
            return code
        time.sleep(1)  # the next 30-second step brings a new code


def log_in(page: Page, email: str, password: str, totp_secret: str | None = None) -> None:
    """Sign in through the login form (and the code step when the account has TOTP)."""
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    submit(page, "Log in")
    if totp_secret and "/login/verify" in page.url:
        page.get_by_label(re.compile("code", re.I)).first.fill(fresh_code(totp_secret))
        submit(page, "Log in")
    expect(page.locator("form[action$='/logout']")).to_be_attached()  # hidden in the phone menu


def open_menu(page: Page) -> None:
    """On a phone the main navigation sits behind the menu toggle: open it."""
    toggle = page.locator(".nav-toggle-label")
    if toggle.is_visible():
        toggle.click()


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page; the serious and critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    return [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]


def describe(violations: list[dict]) -> str:
    """One line per violation and node: rule, impact, selector, axe's summary."""
    lines = []
    for violation in violations:
        for node in violation["nodes"][:5]:
            lines.append(
                f"  {violation['id']} ({violation['impact']}): {node['target']} "
                f"{node.get('failureSummary', '').splitlines()[-1:]}"
            )
    return "\n".join(lines)
