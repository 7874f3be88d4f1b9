"""Member pages in a real browser at phone width: nothing wider than the screen.

Runs Debian's Chromium through Playwright against the app served on loopback. Set
CAMPUS_SHOTS=DIR to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from campus.models.base import utcnow
from tests import support
from tests.certificates.helpers import complete_course, student
from tests.learning.helpers import enroll_directly, make_course

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium")


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _member_with_history(app, *, past_due: bool = False) -> str:
    """A member with two long-titled completed courses and one in progress; return the email."""
    with app.app_context():
        user = student(full_name="Maximiliana Featherstonehaugh-Wolfeschlegel")
        email = user.email
        for n in range(2):
            course = make_course(
                f"done-{n}",
                title=f"Trigger Points of the Posterior Hip and Thigh, Part {n + 1}: Assessment",
            )
            complete_course(user.id, course)
        ongoing = make_course("neck-basics", title="Neck Pain Basics")
        enroll_directly(user.id, ongoing.id)
        if past_due:
            from campus.billing.models import Subscription
            from campus.extensions import db

            sub = db.session.scalars(db.select(Subscription)).one()
            sub.status, sub.past_due_since = "past_due", utcnow() - timedelta(days=2)
            db.session.commit()
        return email


def _signed_in_page(browser, base: str, email: str):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", support.DEFAULT_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    return page


def _shoot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("CAMPUS_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_my_learning_completed_table_fits_a_390_px_screen(app, served, browser, tmp_path):
    email = _member_with_history(app)
    page = _signed_in_page(browser, served, email)
    page.goto(f"{served}/learning/")
    assert page.locator("h2", has_text="Completed").count() == 1
    _shoot(page, "my-learning-390", tmp_path)
    assert _overflow(page) <= 0
    completed = page.locator("section", has=page.locator("h2", has_text="Completed"))
    table = completed.locator("table").bounding_box()
    assert table is not None and table["x"] >= 0 and table["x"] + table["width"] <= 390
    # No sideways scrolling inside the table's box either.
    hidden = completed.locator(".table-wrap").evaluate("e => e.scrollWidth - e.clientWidth")
    assert hidden <= 0
    assert page.get_by_text("Part 2: Assessment").is_visible()


def test_the_signed_in_home_and_the_past_due_banner_fit_a_phone(app, served, browser, tmp_path):
    email = _member_with_history(app, past_due=True)
    page = _signed_in_page(browser, served, email)
    page.goto(served + "/")
    assert page.get_by_text("Continue where you left off").is_visible()
    assert page.get_by_text("Your last payment failed.").is_visible()
    _shoot(page, "home-signed-in-past-due-390", tmp_path)
    assert _overflow(page) <= 0
    wide = browser.new_page(viewport={"width": 1280, "height": 900})
    wide.context.add_cookies(page.context.cookies())
    wide.goto(served + "/")
    _shoot(wide, "home-signed-in-past-due-1280", tmp_path)
    wide.goto(served + "/articles/")
    assert wide.get_by_text("Your last payment failed.").is_visible()
    _shoot(wide, "past-due-banner-articles-1280", tmp_path)
