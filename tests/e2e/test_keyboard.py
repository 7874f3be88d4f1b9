"""Keyboard only: the simulated checkout, a lesson and the quiz work with Tab, Space and Enter.

On each page Tab walks every control in document order (no positive tabindex), each focused
control shows a visible focus indicator, Tab past the last control leaves the page (no trap)
and Shift+Tab walks back. Then the page's task is done with the keyboard alone.
"""

from __future__ import annotations

import itertools
import re
from io import BytesIO

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# What the focused element is and whether anything shows it is focused.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  // A visually hidden control (the phone menu's checkbox) shows its focus on its label.
  const tiny = el.getBoundingClientRect().width < 4 && el.labels && el.labels.length;
  const style = getComputedStyle(tiny ? el.labels[el.labels.length - 1] : el);
  const all = Array.from(document.querySelectorAll('*'));
  return {
    index: all.indexOf(el),
    name: (el.tagName + ' ' + (el.getAttribute('name') || el.id || el.textContent || ''))
      .trim().slice(0, 60),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== 'none',
    tabindex: el.tabIndex,
  };
}"""


def _tab_through(page: Page, limit: int = 150) -> list[dict]:
    """Press Tab from the top of the page until focus leaves it; what got focus, in order."""
    page.locator("body").focus()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    seen: list[dict] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None or (seen and focused["index"] == seen[0]["index"]):
            return seen  # focus left the page or came round again: no trap
        seen.append(focused)
    raise AssertionError(f"focus never left the page after {limit} Tabs: {seen[-5:]}")


def _assert_keyboard_friendly(page: Page) -> list[dict]:
    order = _tab_through(page)
    assert order, "Tab focused nothing"
    assert order[0]["name"].startswith("A") and "Skip" in order[0]["name"], order[0]
    unseen = [f["name"] for f in order if not (f["outline"] or f["shadow"])]
    assert unseen == [], f"focused without a visible indicator: {unseen}"
    assert [f for f in order if f["tabindex"] > 0] == [], "a positive tabindex breaks the order"
    positions = [f["index"] for f in order]
    assert positions == sorted(positions), f"Tab order is not the reading order: {order}"
    if len(order) > 1:
        # Shift+Tab from the last control walks back to the one before it.
        page.locator("body").focus()
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        for _ in order:
            page.keyboard.press("Tab")
        # Compared by control, not by position among all elements: a live page (the lesson's
        # study-time status) may add elements between the two walks.
        assert page.evaluate(_FOCUSED)["name"] == order[-1]["name"]
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(_FOCUSED)["name"] == order[-2]["name"], "Shift+Tab went astray"
    return order


def _focus(page: Page, locator) -> None:
    """Tab (not click) until `locator` has focus."""
    handle = locator.element_handle()
    for _ in range(150):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => document.activeElement === el", handle):
            return
    raise AssertionError(f"Tab never reached {locator}")


@pytest.fixture
def learner(stack, page: Page, viewport: str) -> dict:
    member = stack.prepare("studying", f"keyboard-{viewport}@example.com")
    log_in(page, member["email"], member["password"])
    return member


def test_checkout_works_with_the_keyboard_alone(page: Page, stack, shots):
    member = stack.prepare("user", f"keys-buyer-{page.viewport_size['width']}@example.com")
    log_in(page, member["email"], member["password"])
    page.goto("/membership")
    _focus(page, page.locator("form[action$='/membership/checkout'] button"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/membership/simulated/checkout/"))
    _assert_keyboard_friendly(page)
    _focus(page, page.get_by_label("Card number"))
    page.keyboard.press("Control+A")
    page.keyboard.type("4242424242424242")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    shot(page, shots, "checkout-focus-on-pay")
    expect(page.get_by_role("button", name=re.compile("^Subscribe"))).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/membership/success"))


def test_lesson_works_with_the_keyboard_alone(page: Page, learner: dict, shots):
    page.goto(f"/courses/{learner['lesson_course']}/lessons/{learner['lesson_id']}")
    button = page.get_by_role("button", name=re.compile("^Mark complete"))
    # Walk once the heartbeat has counted the study time: the button joins the Tab order when it
    # is enabled, and a walk that straddles that moment counts one stop more the second time.
    expect(button).to_be_enabled(timeout=60_000)
    order = _assert_keyboard_friendly(page)
    _focus(page, button)
    shot(page, shots, "lesson-focus-on-complete")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/lessons/(?!{learner['lesson_id']}$)\d+$"))
    assert len(order) > 5


def test_quiz_works_with_the_keyboard_alone(page: Page, learner: dict, shots):
    page.goto(f"/courses/{learner['quiz_course']}/quiz")
    _assert_keyboard_friendly(page)
    questions = page.locator("fieldset")
    expect(questions.first).to_be_visible()
    for question in questions.all():
        first = question.locator("input").first
        _focus(page, first)
        page.keyboard.press("Space")  # choose (radio) or tick (checkbox) the focused answer
        expect(first).to_be_checked()
    shot(page, shots, "quiz-answered-by-keyboard")
    _focus(page, page.get_by_role("button", name="Submit my answers"))
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name=re.compile("Your attempts|You passed"))).to_be_visible()


# Where the focused control is on the page, top to bottom.
_FOCUSED_AT = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  const box = el.getBoundingClientRect();
  const name = (el.textContent || el.name || '').trim().slice(0, 40);
  return {top: Math.round(box.top + window.scrollY), name: name};
}"""


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_on_a_phone_tab_walks_the_lesson_and_quiz_from_top_to_bottom(page: Page, learner: dict):
    pages = (
        f"/courses/{learner['lesson_course']}/lessons/{learner['lesson_id']}",
        f"/courses/{learner['quiz_course']}/quiz",
    )
    for url in pages:
        page.goto(url)
        order = _walk_positions(page)
        # One column on a phone: a control above another on screen comes first. The course
        # outline sits under the lesson there, so it is walked after the lesson, not before.
        tops = [f["top"] for f in order]
        jumps = [(a, b) for a, b in itertools.pairwise(order) if b["top"] < a["top"] - 4]
        assert jumps == [], f"{url}: Tab jumps back up the page: {jumps} in {tops}"


def _walk_positions(page: Page) -> list[dict]:
    page.evaluate("() => window.scrollTo(0, 0)")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    seen: list[dict] = []
    for _ in range(150):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED_AT)
        if focused is None:
            return seen
        seen.append(focused)
    raise AssertionError("focus never left the page")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_directory_search_by_keyboard_lands_on_its_results(page: Page, stack, shots):
    page.goto("/directory/")
    answers = (("1234", page.locator("#dir-zip")), ("10001", page.locator(".result-note")))
    for typed, lands_on in answers:
        _focus(page, page.get_by_label("ZIP code"))
        page.keyboard.press("Control+A")
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"zip={typed}"))
        page.wait_for_load_state()
        # The answer has focus and is on screen: the form alone fills a phone's screen.
        expect(lands_on).to_be_focused()
        expect(lands_on).to_be_in_viewport()
        shot(page, shots, f"directory-{typed}")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_quiz_sent_with_a_question_unanswered_opens_at_the_problem(page: Page, learner: dict):
    page.goto(f"/courses/{learner['quiz_course']}/quiz")
    first = page.locator("fieldset").first.locator("input").first
    _focus(page, first)
    page.keyboard.press("Space")
    _focus(page, page.get_by_role("button", name="Submit my answers"))
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    problem = page.locator(".flash-error")
    expect(problem).to_contain_text("Answer every question")
    expect(problem).to_be_focused()
    expect(problem).to_be_in_viewport()
    expect(page.locator("fieldset").first.locator("input").first).to_be_checked()


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_skip_link_moves_focus_into_the_content(page: Page, learner: dict):
    page.goto(f"/courses/{learner['lesson_course']}/lessons/{learner['lesson_id']}")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    # Focus itself lands on the content (not only the place Tab starts from), so a screen
    # reader that follows focus starts reading there too; and no ring is drawn round it all.
    main = page.locator("main")
    expect(main).to_be_focused()
    assert main.evaluate("(el) => getComputedStyle(el).outlineStyle") == "none"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_adding_up_ce_hours_by_keyboard_lands_on_the_sum(page: Page, learner: dict):
    page.goto("/learning/")
    _focus(page, page.get_by_role("button", name="Add up"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"from="))
    page.wait_for_load_state()
    total = page.locator(".range-result")
    expect(total).to_be_focused()
    expect(total).to_be_in_viewport()


def test_enter_on_an_exam_answer_does_not_submit_the_exam(page: Page, stack, shots):
    # Enter in a form submits it through its first submit button: on a radio button that
    # sent the whole exam with one answer, spending an attempt.
    width = page.viewport_size["width"]
    c = stack.prepare(
        "candidate", f"enter-key-{width}@example.com", f"enter-key-assessor-{width}@example.com"
    )
    log_in(page, c["email"], c["password"])
    page.goto(f"/programs/{c['program_slug']}")
    page.get_by_role("button", name=re.compile("^Start the exam")).click()
    page.wait_for_load_state()
    first = page.locator("input[type=radio]").first
    first.focus()
    page.keyboard.press("Space")
    expect(page.locator("#exam-saved")).to_contain_text("saved")
    page.keyboard.press("Enter")
    page.wait_for_timeout(1_000)
    expect(page.locator("#exam-form")).to_be_visible()
    assert page.locator(".quiz-result").count() == 0, "Enter submitted the exam"
    shot(page, shots, "exam-after-enter")
    page.get_by_role("button", name="Submit the exam").click()  # the button still sends it
    page.wait_for_load_state()
    expect(page.locator(".quiz-result")).to_be_visible()


def _luminance(rgb: tuple[int, ...]) -> float:
    """A colour's relative luminance, as WCAG defines it."""
    channels = [c / 255 for c in rgb[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """The WCAG contrast ratio of two colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_yellow_buttons_on_dark_panels_show_their_focus(page: Page, stack, shots):
    # The ring sits 2-5 px outside the button. Dark green on the dark green hero it did not
    # show, and the yellow halo under it only made the yellow button 2 px larger.
    from PIL import Image

    margin = 12
    for address, panel, name in (
        ("/", ".hero .actions", "Create a free account"),
        ("/", ".hero .actions", "Log in"),
        ("/articles/", ".download-promo", "Get the free PDF"),
    ):
        page.goto(address)
        button = page.locator(panel).get_by_role("link", name=name, exact=True)
        _focus(page, button)
        box = button.bounding_box()
        clip = {
            "x": box["x"] - margin,
            "y": box["y"] - margin,
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        }
        after = Image.open(BytesIO(page.screenshot(clip=clip))).convert("RGB")
        page.evaluate("() => document.activeElement.blur()")  # the page stays where it is
        before = Image.open(BytesIO(page.screenshot(clip=clip))).convert("RGB")
        width, height = before.size
        # Rows 3-4 px above and below the button, along its straight middle.
        rows = (margin - 4, margin - 3, height - margin + 2, height - margin + 3)
        columns = range(width // 4, 3 * width // 4)
        ratios = sorted(
            _contrast(before.getpixel((x, y)), after.getpixel((x, y)))
            for y in rows
            for x in columns
        )
        median = ratios[len(ratios) // 2]
        assert median >= 3, f"{name!r}'s focus ring barely shows on {address} ({median:.1f}:1)"
        shot(page, shots, "focus-on-dark")
