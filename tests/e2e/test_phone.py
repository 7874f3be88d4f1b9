"""On a phone (390 px) a page fits the screen: nothing makes the whole page scroll sideways.

A wide table may scroll inside its own box; the page around it must not.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browsing import log_in, shot, submit

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


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_phone_menu_says_what_it_is_and_whether_it_is_open(page: Page, stack):
    page.goto("/articles/")
    # A screen reader reads the control's name with its state: "Menu, checkbox, not checked",
    # then "checked" once open. A name saying "Open the menu" would be wrong half the time.
    toggle = page.get_by_role("checkbox", name="Menu", exact=True)
    expect(toggle).not_to_be_checked()
    expect(page.locator(".site-nav")).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Space")
    expect(toggle).to_be_checked()
    expect(page.locator(".site-nav")).to_be_visible()
    assert toggle.get_attribute("aria-controls") == page.locator(".site-nav").get_attribute("id")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_assessments_queue_fits_the_phone(page: Page, stack, shots):
    data = stack.prepare("pages")  # a practical waiting for review, and its assessor
    log_in(page, data["assessor"], data["password"], data["assessor_totp_secret"])
    page.goto("/admin/assessments/")
    review = page.get_by_role("link", name="Review").first
    expect(review).to_be_attached()
    shot(page, shots, "assessments-queue")
    assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, "the page scrolls sideways"
    # Inside a box that scrolls sideways, the link was still off-screen, past the file name.
    box = review.bounding_box()
    width = page.viewport_size["width"]
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, "Review is off-screen"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_certificate_verify_page_fits_the_phone(page: Page, stack, shots):
    # What a board or a client opens from the certificate's QR code, often on a phone.
    graduate = stack.prepare("graduate", "phone-graduate@example.com")
    page.goto(f"/verify/{graduate['code']}")
    expect(page.get_by_text(graduate["code"]).first).to_be_visible()
    shot(page, shots, "certificate-verified")
    assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, "the page scrolls sideways"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_directory_results_reflow_at_320_pixels(page: Page, stack, shots):
    # WCAG's reflow width: a card's distance and its "Accepting clients" badge wrap.
    page.set_viewport_size({"width": 320, "height": 844})
    page.goto("/directory/?zip=10001&radius=25")
    expect(page.locator(".directory-card").first).to_be_visible()
    shot(page, shots, "directory-results-320")
    assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, "the page scrolls sideways"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_an_admins_page_of_a_member_with_courses_fits_the_phone(page: Page, stack, shots):
    # The member's courses, study time and certificates are tables wider than a phone.
    admin = stack.prepare("busy_admin", "phone-member-admin@example.com")
    member = stack.prepare("studying", "phone-studying@example.com")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto(f"/admin/members/{member['id']}/")
    expect(page.locator("table").first).to_be_visible()
    shot(page, shots, "admin-member-page")
    assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, "the page scrolls sideways"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_record_with_a_long_source_address_fits_the_phone(page: Page, stack, shots):
    # A renewal rule's source is a long web address: its details table widened the page.
    admin = stack.prepare("busy_admin", "phone-rules-admin@example.com")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/renewal-rules/")
    links = page.locator("a[href*='/renewal-rules/details/']")
    hrefs = {links.nth(n).get_attribute("href") for n in range(links.count())}
    assert hrefs, "no renewal rules to open"
    for href in sorted(hrefs):
        page.goto(href)
        assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, f"{href} scrolls sideways"
    shot(page, shots, "renewal-rule-details")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_api_reference_fits_the_phone(page: Page, stack, shots):
    page.goto("/api/v1/docs")
    expect(page.locator(".api-op").first).to_be_visible()
    shot(page, shots, "api-reference")
    assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, "the page scrolls sideways"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_security_pages_sign_out_and_revoke_are_on_the_phones_screen(page: Page, stack, shots):
    # Five and seven columns: each row's button sat past the edge of a box scrolling sideways.
    member = stack.prepare("user", "phone-sessions@example.com")
    log_in(page, member["email"], member["password"])
    page.context.clear_cookies()
    log_in(page, member["email"], member["password"])  # the first session is another device
    page.goto("/account/security")
    page.locator("#name").fill("Clinic records")
    page.locator("#api-tokens input[type=password]").fill(member["password"])
    submit(page, "Make a token")
    page.goto("/account/security")
    shot(page, shots, "security")
    assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, "the page scrolls sideways"
    width = page.viewport_size["width"]
    for name in ("Sign out", "Revoke"):  # not scrolled to: a sideways box would hide it again
        button = page.get_by_role("button", name=name, exact=True).first
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{name} is off-screen"


# Each item of a facts line with the dot that separates it from its neighbour: where it sits
# (at the item's start or end), whether it shows (not clipped away by the line's box), and
# whether any of the item's own text falls into that clipped strip.
_FACT_DOTS = """(line) => {
  // A clip-path inset(top right bottom left) hides the line's left edge; its left is the
  // 4th value, else the 2nd, else the only one.
  const clip = getComputedStyle(line).clipPath.match(/inset\\(([^)]*)\\)/);
  const inset = (clip ? clip[1] : '0').split(' ');
  const left = parseFloat(inset[3] || inset[1] || inset[0]);
  const shownFrom = line.getBoundingClientRect().left + left;
  const dot = (item, where) => {
    const content = getComputedStyle(item, where).content;
    return Boolean(content) && content.includes('·');
  };
  const textLeft = (item) => {
    const range = document.createRange();
    range.selectNodeContents(item);
    const lefts = [...range.getClientRects()].filter((r) => r.width > 0).map((r) => r.left);
    return Math.min(...lefts);
  };
  return [...line.children].map((item, index) => {
    const rect = item.getBoundingClientRect();
    const at = dot(item, '::before') ? 'start' : dot(item, '::after') ? 'end' : null;
    const pseudo = getComputedStyle(item, at === 'start' ? '::before' : '::after');
    const width = parseFloat(pseudo.width) || 0;
    const shown = at === 'end' || (at === 'start' && rect.left + width > shownFrom + 0.5);
    const clipped = textLeft(item) < shownFrom - 0.5;
    return {index, top: Math.round(rect.top), at, shown, clipped, text: item.innerText};
  });
}"""

# Dots written into the text itself ("a · b · c") that begin or end one of its lines.
_TEXT_DOTS_AT_LINE_EDGES = """(line) => {
  const chars = [];
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      if (/\\s/.test(node.data[i])) continue;
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (rect && rect.width > 0) chars.push({c: node.data[i], top: Math.round(rect.top)});
    }
  }
  return chars.flatMap((ch, i) => {
    if (ch.c !== '·') return [];
    const before = chars[i - 1], after = chars[i + 1];
    if (!before || before.top !== ch.top) return ['a line starts with a dot'];
    if (!after || after.top !== ch.top) return ['a line ends with a dot'];
    return [];
  });
}"""


def _assert_dots_only_between_items(line: Locator, width: int) -> list[dict]:
    """Check a facts line's dots part items sharing a line and none begins or ends one."""
    text = line.inner_text()
    assert line.evaluate(_TEXT_DOTS_AT_LINE_EDGES) == [], f"{text!r} at {width} px"
    items = line.evaluate(_FACT_DOTS)
    for before, item in zip([None, *items], items, strict=False):
        after = items[item["index"] + 1] if item["index"] + 1 < len(items) else None
        starts_a_line = before is None or before["top"] != item["top"]
        ends_a_line = after is None or after["top"] != item["top"]
        assert not item["clipped"], f"{item['text']!r} is cut off at {width} px"
        if item["shown"] and item["at"] == "start":
            assert not starts_a_line, f"a line starts with a dot: {item['text']!r}"
        if item["shown"] and item["at"] == "end":
            assert not ends_a_line, f"a line ends with a dot: {item['text']!r}"
        if not starts_a_line:  # between two items on one line a dot still separates them
            assert item["shown"] or before["shown"], f"no dot before {item['text']!r}"
    return items


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("width", [320, 390])
def test_a_course_facts_line_never_starts_or_ends_a_line_with_a_dot(page: Page, stack, width):
    page.set_viewport_size({"width": width, "height": 844})
    page.goto("/courses/trigger-points-neck-and-shoulder")
    items = _assert_dots_only_between_items(page.locator(".course-head .course-meta-line"), width)
    assert len({item["top"] for item in items}) > 1, f"the line did not wrap at {width} px"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_catalog_cards_facts_never_start_or_end_a_line_with_a_dot(page: Page, stack, shots):
    # The foot of a card: level, topic and the professions the course is for.
    page.goto("/courses/")
    feet = page.locator(".course-card-foot > :first-child")
    expect(feet.first).to_be_visible()
    for width in (320, 340, 360, 390):
        page.set_viewport_size({"width": width, "height": 844})
        for n in range(feet.count()):
            _assert_dots_only_between_items(feet.nth(n), width)
    shot(page, shots, "catalog-card-facts")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_an_articles_byline_never_starts_or_ends_a_line_with_a_dot(page: Page, stack, shots):
    # "By ... · Published ... · Updated ... · 2 min read" ended a line with its dot.
    page.goto("/articles/")
    page.locator(".article-card-title a").first.click()
    byline = page.locator(".article-byline")
    expect(byline).to_be_visible()
    for width in range(320, 432, 8):
        page.set_viewport_size({"width": width, "height": 844})
        _assert_dots_only_between_items(byline, width)
    shot(page, shots, "article-byline")


# The approval numbers ("20-938471") of a page's approval chips that are split over two lines.
_SPLIT_APPROVAL_NUMBERS = """() => [...document.querySelectorAll('.approval-chip')].flatMap(
(chip) => {
  const text = chip.textContent.trim();
  const number = text.slice(text.lastIndexOf(' ') + 1);
  const walker = document.createTreeWalker(chip, NodeFilter.SHOW_TEXT);
  const tops = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(number);
    if (at < 0) continue;
    for (let i = at; i < at + number.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (rect) tops.add(Math.round(rect.top));
    }
  }
  return tops.size > 1 ? [number] : [];
})"""


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_catalog_cards_approval_numbers_are_never_split(page: Page, stack, shots):
    # "Florida Board of Massage Therapy 20-" / "938471": a number to read out to a board.
    page.goto("/courses/")
    expect(page.locator(".approval-chip").first).to_be_visible()
    for width in range(320, 432, 8):
        page.set_viewport_size({"width": width, "height": 844})
        assert page.evaluate(_SPLIT_APPROVAL_NUMBERS) == [], f"at {width} px"
        assert page.evaluate(_WIDER_THAN_SCREEN) <= 0, f"the page scrolls sideways at {width} px"
    shot(page, shots, "approval-numbers")


# Running text with written dots: the page, and the lines on it that list facts.
_FACTS_IN_RUNNING_TEXT = {
    "/": [".home-continue h3 + p", "#certificates-heading + p"],
    "/learning/": [".enrollment-main h3 + p", ".tracker-head p"],
    "/certificates/": [".cert-item-facts"],
    "/account/licenses": [".license-card-main p"],
    "/courses/{finished_course_slug}": [".syllabus-module:has(h3:text-is('Final quiz')) p"],
}


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_facts_in_running_text_never_start_or_end_a_line_with_a_dot(page: Page, stack, shots):
    # "2 CE hours · 1 of 3 lessons · enrolled ..." wrapped with its dot at a line's end.
    data = stack.prepare("pages")
    log_in(page, data["member"], data["password"])
    for path, selectors in _FACTS_IN_RUNNING_TEXT.items():
        page.goto(path.format(**data))
        for selector in selectors:
            lines = page.locator(selector)
            expect(lines.first).to_be_visible()
            for width in range(320, 398, 6):
                page.set_viewport_size({"width": width, "height": 844})
                for n in range(lines.count()):
                    line = lines.nth(n)
                    assert "·" not in line.inner_text(), f"{path}: {line.inner_text()!r}"
                    _assert_dots_only_between_items(line, width)
        shot(page, shots, path.split("/")[1] or "home")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_login_footers_links_never_start_or_end_a_line_with_a_dot(page: Page, stack, shots):
    # "Forgot your password? · New here? Create an account" is centred and wraps on a phone.
    page.goto("/login")
    footer = page.locator(".form-footer")
    for width in range(320, 398, 6):
        page.set_viewport_size({"width": width, "height": 844})
        assert footer.evaluate(_TEXT_DOTS_AT_LINE_EDGES) == [], f"at {width} px"
        assert "·" not in footer.inner_text(), f"{footer.inner_text()!r} at {width} px"
    shot(page, shots, "login-footer")


# The lines a button's text takes: each line's left and right gap inside the button's padding.
_BUTTON_LINES = """(button) => {
  const style = getComputedStyle(button);
  const box = button.getBoundingClientRect();
  const left = box.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
  const right = box.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight);
  const range = document.createRange();
  range.selectNodeContents(button);
  const lines = new Map();
  for (const r of range.getClientRects()) {
    if (r.width <= 0) continue;
    const top = Math.round(r.top);
    const line = lines.get(top) || {left: r.left, right: r.right};
    lines.set(top, {left: Math.min(line.left, r.left), right: Math.max(line.right, r.right)});
  }
  return [...lines.values()].map((l) => ({before: l.left - left, after: right - l.right,
                                          width: l.right - l.left}));
}"""


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_next_lessons_button_wraps_its_title_evenly_on_a_phone(page: Page, stack, shots):
    # Full width and aligned right, a long title wrapped as "Levator scapulae: the stiff" with
    # "neck →" alone at the right edge of the next line.
    member = stack.prepare("studying", "phone-next-lesson@example.com")
    log_in(page, member["email"], member["password"])
    page.goto(f"/courses/{member['lesson_course']}/lessons/{member['lesson_id']}")
    button = page.locator(".lesson-pager a[rel=next]")
    expect(button).to_be_visible()
    wrapped = False
    for width in range(320, 398, 10):
        page.set_viewport_size({"width": width, "height": 844})
        lines = button.evaluate(_BUTTON_LINES)
        wrapped = wrapped or len(lines) > 1
        for line in lines:
            assert abs(line["before"] - line["after"]) <= 2, f"not centred at {width} px: {line}"
        widths = [line["width"] for line in lines]
        assert min(widths) >= max(widths) / 2, f"a short last line at {width} px: {lines}"
    assert wrapped, "the title never wrapped"
    page.set_viewport_size({"width": 320, "height": 844})
    shot(page, shots, "next-lesson-button")


# How far a facts line's first item's text sits from the start of its box's content: a rule
# setting the line's left margin undoes its reach into the clipped strip and indents it.
_FIRST_ITEM_INDENT = """(line) => {
  const box = line.parentElement.getBoundingClientRect();
  const style = getComputedStyle(line.parentElement);
  const start = box.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
  const item = line.firstElementChild;
  return item.getBoundingClientRect().left + parseFloat(getComputedStyle(item).paddingLeft) - start;
}"""

# More lines of facts once written with dots: the page, and the lines on it.
_MORE_FACTS_LINES = {
    "/courses/{finished_course_slug}/quiz": [".quiz .lesson-kicker", ".outline-progress-label"],
    "/programs/{program_slug}/exam/{sitting_id}": [".lesson-kicker"],
    "/articles/?q=neck": [".result-note"],
    "/articles/": [".article-card-foot .facts-line"],
    "/directory/{directory_slug}": [".directory-profile-head .facts-line"],
}


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_more_facts_lines_never_start_or_end_a_line_with_a_dot(page: Page, stack, shots):
    # "0% complete · 0 of 8 lessons", "Attempt 1 · 8 questions · pass mark 80%" and the like.
    data = stack.prepare("pages")
    log_in(page, data["member"], data["password"])
    for path, selectors in _MORE_FACTS_LINES.items():
        page.goto(path.format(**data))
        for selector in selectors:
            lines = page.locator(selector)
            expect(lines.first).to_be_visible()
            for width in (320, 340, 360, 390):
                page.set_viewport_size({"width": width, "height": 844})
                for n in range(lines.count()):
                    line = lines.nth(n)
                    assert "·" not in line.inner_text(), f"{path}: {line.inner_text()!r}"
                    _assert_dots_only_between_items(line, width)
                    indent = line.evaluate(_FIRST_ITEM_INDENT)
                    assert abs(indent) < 1, f"{path}: {selector} is indented {indent} px"
                if width in (320, 390):  # what the first line looks like, for a reviewer
                    name = f"{len(list(shots.glob('*.png'))) + 1:02d}-line-{width}.png"
                    lines.first.locator("xpath=..").screenshot(path=str(shots / name))
        shot(page, shots, "facts-" + (path.split("/")[1] or "home"))
