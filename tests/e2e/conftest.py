"""Browser tests: Debian's Chromium through Playwright against gunicorn + a real Celery worker.

They are marked `e2e` and `slow`, so `./dev test` leaves them out and `./dev test --slow` (CI)
runs them. Without /usr/bin/chromium they skip, except in CI (CI=true), where they fail.
Screenshots go to $E2E_SHOTS_DIR/<test> when it is set, else to the test's tmp_path/shots; the
run ends by printing where they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Stack, start_stack

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

_SHOT_FOLDERS: list[Path] = []


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser tests", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Campus served by gunicorn with a worker, on a database and broker of its own."""
    _need_chromium()
    running = start_stack(tmp_path_factory.mktemp("e2e") / "instance")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def browser(stack: Stack):
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    """Each journey at 1280 px (desktop) and 390 px (phone)."""
    return request.param


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The folder this test saves its screenshots in."""
    base = os.environ.get("E2E_SHOTS_DIR")
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    folder = Path(base) / name if base else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    _SHOT_FOLDERS.append(folder)
    return folder


@pytest.fixture
def page(browser, stack: Stack, viewport: str):
    """A fresh browser context (no cookies) and page at the test's viewport."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], base_url=stack.base_url, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _SHOT_FOLDERS:
        folders = sorted({str(folder) for folder in _SHOT_FOLDERS})
        terminalreporter.write_line(f"e2e screenshots: {len(folders)} folders, e.g.")
        for folder in folders[:3]:
            terminalreporter.write_line(f"  {folder}")
        if len(folders) > 3:
            terminalreporter.write_line(f"  ... under {os.path.commonpath(folders)}")
