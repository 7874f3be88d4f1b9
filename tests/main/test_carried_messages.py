"""Messages carried to the next page (flashes): seen without JavaScript, heard with it."""

import re

from tests import support


def _tag(page: str, pattern: str) -> str:
    found = re.search(pattern, page)
    assert found, pattern
    return found.group(0)


def test_a_carried_message_is_shown_plain_and_spoken_from_empty_regions(app, client):
    with client.session_transaction() as flashed:
        flashed["_flashes"] = [("success", "Profile saved."), ("error", "Card refused.")]
    page = client.get("/").text
    # Visible without JavaScript, but not a live region of its own: one present when the page
    # loads is not read out by most screen readers (and some would read it twice).
    saved = _tag(page, r'<div [^>]*class="flash flash-success">Profile saved\.</div>')
    refused = _tag(page, r'<div [^>]*class="flash flash-error">Card refused\.</div>')
    assert 'data-announce="status"' in saved and 'data-announce="alert"' in refused
    flashes = _tag(page, r'<div class="flashes"[^>]*>')
    assert "role=" not in flashes + saved + refused and "aria-live" not in flashes
    # The regions the site script repeats them into are in the page, and empty, from the start.
    assert re.search(r'<div id="announce-status" [^>]*role="status"[^>]*></div>', page)
    assert re.search(r'<div id="announce-alert" [^>]*role="alert"[^>]*></div>', page)
    assert re.search(r'<script src="/static/announce\.js[^"]*" defer></script>', page)


def test_every_page_has_the_empty_regions_even_without_a_message(app, client):
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    for path in ("/", "/login", "/courses/", "/account/profile"):
        page = client.get(path, follow_redirects=True).text
        assert 'id="announce-status"' in page and 'id="announce-alert"' in page, path
        assert 'class="flashes"' not in page, path
