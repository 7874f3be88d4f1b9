"""At 1280 px an admin list fits beside the admin menu: long text wraps inside its cell.

A table wider than its box scrolls sideways, and the column past the edge (the audit log's
Summary, the last one) is the one a reader came for.
"""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# How far the list's table reaches past the box it scrolls in (0 or less: it fits).
_TABLE_PAST_ITS_BOX = (
    "() => { const box = document.querySelector('.table-responsive');"
    " return box.scrollWidth - box.clientWidth; }"
)
_LONG = "maximilian.alexander.worthington-fairbanks@physiotherapy-associates-springfield.example"


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_long_addresses_and_summaries_wrap_in_the_admin_lists(page: Page, stack, shots):
    # Its own address, long, is in the log's By column and in its sign-in's summary.
    admin = stack.prepare("busy_admin", f"desktop-lists.{_LONG}")
    stack.prepare("user", _LONG)
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/audit/")
    expect(page.locator("td.col-summary").first).to_be_visible()
    shot(page, shots, "audit-log")
    assert page.evaluate(_TABLE_PAST_ITS_BOX) <= 0, "the audit log scrolls sideways"
    page.goto("/admin/members/")
    expect(page.get_by_role("link", name=_LONG, exact=True)).to_be_visible()
    shot(page, shots, "members")
    assert page.evaluate(_TABLE_PAST_ITS_BOX) <= 0, "the members list scrolls sideways"


# The visual lines of a cell, as the text each holds.
_CELL_LINES = """(cell) => {
  const lines = new Map();
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      const top = Math.round(rect.top);
      lines.set(top, (lines.get(top) || '') + node.data[i]);
    }
  }
  return [...lines.keys()].sort((a, b) => a - b).map((top) => lines.get(top).trim());
}"""


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_long_action_name_wraps_between_its_words_in_the_audit_log(page: Page, stack, shots):
    # Among the longest the platform writes; as one word it pushed the Summary off the box.
    admin = stack.prepare("busy_admin", "desktop-actions-admin@example.com")
    action = stack.prepare("audit_entry", "program_credential_issue_again")["action"]
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/audit/")
    cell = page.locator("td.col-action", has_text=action).first
    expect(cell).to_be_visible()
    shot(page, shots, "audit-log-long-action")
    assert page.evaluate(_TABLE_PAST_ITS_BOX) <= 0, "the audit log scrolls sideways"
    lines = cell.evaluate(_CELL_LINES)
    assert "".join(lines) == action, lines
    assert all(line.endswith(("_", ".")) for line in lines[:-1]), f"broken inside a word: {lines}"


def _breaks_inside_words(lines: list[str], text: str) -> list[str]:
    """Where the cell's lines break inside a word: the text that ends the line."""
    inside = []
    for line, following in itertools.pairwise(lines):
        end, start = line.split()[-1], following.split()[0]
        if end + start in text:
            inside.append(end)
    return inside


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_an_address_in_the_audit_log_breaks_only_after_its_at_sign_a_dot_or_a_hyphen(
    page: Page, stack, shots
):
    # Broken anywhere, an address read "...@physiotherapy-associates-springfield.examp" / "le".
    admin = stack.prepare("busy_admin", f"desktop-breaks.{_LONG}")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/audit/")
    by = page.locator("td.col-actor_email", has_text=admin["email"]).first
    summary = page.locator("td.col-summary", has_text=admin["email"]).first
    expect(by).to_be_visible()
    expect(summary).to_be_visible()
    shot(page, shots, "audit-log-addresses")
    assert page.evaluate(_TABLE_PAST_ITS_BOX) <= 0, "the audit log scrolls sideways"
    for cell in (by, summary):
        lines = cell.evaluate(_CELL_LINES)
        assert len(lines) > 1, f"the address did not wrap: {lines}"
        inside = _breaks_inside_words(lines, cell.inner_text())
        assert all(end.endswith(("@", ".", "-")) for end in inside), f"broken mid-word: {lines}"


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_an_address_in_the_members_list_breaks_only_after_its_at_sign_a_dot_or_a_hyphen(
    page: Page, stack, shots
):
    # Its Email cell wrapped a long address anywhere, as the audit log's By column did.
    admin = stack.prepare("busy_admin", f"desktop-members.{_LONG}")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/members/")
    cell = page.locator("td.col-email", has_text=admin["email"]).first
    expect(cell).to_be_visible()
    shot(page, shots, "members-addresses")
    assert page.evaluate(_TABLE_PAST_ITS_BOX) <= 0, "the members list scrolls sideways"
    lines = cell.evaluate(_CELL_LINES)
    assert len(lines) > 1, f"the address did not wrap: {lines}"
    inside = _breaks_inside_words(lines, cell.inner_text())
    assert all(end.endswith(("@", ".", "-")) for end in inside), f"broken mid-word: {lines}"


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_renewal_rules_list_fits_beside_the_admin_menu(page: Page, stack, shots):
    # Nine columns; a profession written as its key ("massage_therapist") would not wrap.
    admin = stack.prepare("busy_admin", "desktop-rules-admin@example.com")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/renewal-rules/")
    expect(page.locator("td.col-profession").first).to_be_visible()
    shot(page, shots, "renewal-rules")
    assert page.evaluate(_TABLE_PAST_ITS_BOX) <= 0, "the renewal rules list scrolls sideways"


# Each icon link of a list's rows whose underline shows: any width of underlined text.
_UNDERLINED_ICONS = """() => [...document.querySelectorAll('td.list-buttons-column a')]
  .filter((a) => getComputedStyle(a).textDecorationLine.includes('underline'))
  .filter((a) => a.getBoundingClientRect().width > 0)
  .map((a) => a.title)"""


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_lists_row_icons_have_no_stray_underline(page: Page, stack, shots):
    # The eye and the pencil were followed by a short "_": the underlined space in their link.
    admin = stack.prepare("busy_admin", "desktop-icons-admin@example.com")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/renewal-rules/")
    expect(page.locator("td.list-buttons-column a").first).to_be_visible()
    shot(page, shots, "row-icons")
    assert page.evaluate(_UNDERLINED_ICONS) == []


# The footer's links drawn without an underline, by their text.
_PLAIN_FOOTER_LINKS = """() => [...document.querySelectorAll('.site-footer a')]
  .filter((a) => !getComputedStyle(a).textDecorationLine.includes('underline'))
  .map((a) => a.textContent.trim())"""


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_footer_links_of_an_admin_page_are_underlined_as_elsewhere(page: Page, stack, shots):
    # The provider's email sits in its address, in a colour close to the address's own text.
    page.goto("/articles/")
    assert page.evaluate(_PLAIN_FOOTER_LINKS) == []
    admin = stack.prepare("busy_admin", "desktop-footer-admin@example.com")
    log_in(page, admin["email"], admin["password"], admin["totp_secret"])
    page.goto("/admin/audit/")
    expect(page.locator(".site-footer a").first).to_be_attached()
    shot(page, shots, "admin-footer")
    assert page.evaluate(_PLAIN_FOOTER_LINKS) == []
