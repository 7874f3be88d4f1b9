"""A member's own profile: private until published, hidden at will, photo checked, audited."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from campus.directory import taxonomy
from tests import support
from tests.admin.helpers import audit_entries, flashes
from tests.directory.helpers import make_profile, save_form

TEN_SPECIALTIES = list(taxonomy.specialties())[:10]


def _png(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def test_the_profile_page_needs_a_signed_in_member(client):
    response = client.get("/directory/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_head_answers_the_profile_page_like_get(client, member):
    # A link checker or a browser's prefetch asks with HEAD: it is not a save with no fields.
    get = client.get("/directory/me")
    head = client.head("/directory/me")
    assert head.status_code == get.status_code == 200
    assert head.data == b""


def test_a_saved_profile_stays_private_until_published(app, client, member):
    assert save_form(client).status_code == 302
    from campus.directory.services import profile_of

    with app.app_context():
        profile = profile_of(member)
        slug = profile.slug
        assert (profile.city, profile.state) == ("Portland", "ME")
        assert profile.lat == pytest.approx(43.66, abs=0.1)
        assert profile.website == "https://reyes-bodywork.example"
        assert (
            "<script>" not in profile.bio_html and "<strong>neck pain</strong>" in profile.bio_html
        )
    anonymous = app.test_client()
    assert anonymous.get(f"/directory/{slug}").status_code == 404
    assert slug not in anonymous.get("/directory/?zip=04101").text

    published = support.post_form(client, "/directory/me/publish")
    assert published.status_code == 302
    page = anonymous.get(f"/directory/{slug}")
    assert page.status_code == 200 and "Reyes Bodywork" in page.text
    assert slug in anonymous.get("/directory/?zip=04101").text

    support.post_form(client, "/directory/me/unpublish")
    assert anonymous.get(f"/directory/{slug}").status_code == 404
    assert slug not in anonymous.get("/directory/?zip=04101").text
    actions = [e.action for e in audit_entries(app, object_type="DirectoryProfile")]
    assert actions == [
        "directory_create",
        "directory_publish",
        "directory_unpublish",
    ]


def test_a_profile_is_published_only_once_its_email_is_confirmed(app, client):
    """Clients' messages go to that address: one nobody confirmed may be a stranger's."""
    from campus.directory.services import profile_of

    with app.app_context():
        user_id = support.create_user(email="typo@example.com", verified=False).id
        support.sign_in_directly(client, user_id)
    assert save_form(client).status_code == 302
    response = support.post_form(client, "/directory/me/publish", follow_redirects=True)
    assert "Confirm your email address" in " ".join(flashes(response))
    with app.app_context():
        profile = profile_of(user_id)
        assert profile.published_at is None and not profile.is_listed
        slug = profile.slug
    assert app.test_client().get(f"/directory/{slug}").status_code == 404
    assert not audit_entries(app, action="directory_publish")


def test_hiding_a_profile_that_is_not_listed_logs_nothing(app, client, member):
    # Each click on "hide" wrote an entry saying the owner hid the profile, listed or not: as
    # many entries, all claiming a change, as a member cared to send.
    save_form(client)
    for _click in range(3):
        assert support.post_form(client, "/directory/me/unpublish").status_code == 302
    support.post_form(client, "/directory/me/publish")
    for _click in range(2):
        support.post_form(client, "/directory/me/unpublish")
    actions = [e.action for e in audit_entries(app, object_type="DirectoryProfile")]
    assert actions == ["directory_create", "directory_publish", "directory_unpublish"]


def test_the_street_shows_only_when_asked(app, client, member):
    save_form(client)
    support.post_form(client, "/directory/me/publish")
    with app.app_context():
        from campus.directory.services import profile_of

        slug = profile_of(member).slug
    assert "12 Main St" not in app.test_client().get(f"/directory/{slug}").text
    save_form(client, show_street="y")
    assert "12 Main St" in app.test_client().get(f"/directory/{slug}").text


def test_pasted_text_keeps_its_spaces_and_line_breaks_but_not_control_characters(
    app, client, member
):
    response = save_form(
        client,
        display_name="Dr.\u00a0Robin\tReyes\r\n",
        practice_name="Reyes\u202e Bodywork\x07 \U0001f469\u200d\u2695\ufe0f",
        bio="First line.\r\n\r\nSecond\x00 line.\u2066",
    )
    assert response.status_code == 302
    from campus.directory.services import profile_of

    with app.app_context():
        profile = profile_of(member)
        assert profile.display_name == "Dr. Robin Reyes"
        # The health worker emoji keeps its joiner; the override and the bell are gone.
        assert profile.practice_name == "Reyes Bodywork \U0001f469\u200d\u2695\ufe0f"
        assert profile.bio == "First line.\n\nSecond line."


def test_publishing_needs_a_specialty_and_says_so_at_the_specialties(app, client, member):
    save_form(client, specialties=[])
    response = support.post_form(client, "/directory/me/publish")
    # Said under the Specialties heading, where the member ticks one, not in a banner at the top.
    assert response.status_code == 422
    message = re.search(r'<div id="specialties-msg"[^>]*>(.*?)</div>', response.text, re.S)
    assert message and "Choose at least one specialty" in message.group(1)
    assert 'id="specialties-msg" tabindex="-1" autofocus' in response.text
    assert 'class="flash flash-error"' not in response.text
    from campus.directory.services import profile_of

    with app.app_context():
        assert not profile_of(member).is_listed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zip_code": "00000"}, "We do not know the ZIP code 00000"),
        ({"zip_code": "abcde"}, "Enter a 5-digit US ZIP code"),
        ({"specialties": ["astral-healing"]}, "is not a valid choice"),
        ({"website": "javascript:alert(1)"}, "Enter your website"),
        ({"phone": "call me maybe"}, "Enter a phone number"),
        # Punctuation alone passed: a "phone" of no digits shown as a link to call.
        ({"phone": "((((((()))))))"}, "Enter a phone number"),
        ({"phone": "(555) - 01"}, "Enter a phone number"),
        ({"display_name": ""}, "Enter the name clients know you by"),
        ({"display_name": " R\u00a0"}, "Enter the name clients know you by"),
        # Not empty, yet nothing to read: the directory listed a blank name (and a dash).
        ({"display_name": "\u200b\u200b\u200b"}, "Enter the name clients know you by"),
        ({"display_name": "-- --"}, "Enter the name clients know you by"),
        # Browsers stack the accents on one letter over the listings above it.
        (
            {"display_name": "Ze" + "\u0301" * 30 + " Moss"},
            "more than 4 accents or other marks on one letter",
        ),
        # Optional, but not blank in disguise: listed as an empty practice or street line.
        ({"practice_name": "\u200b\u200b"}, "Enter your practice name"),
        ({"practice_name": "\u0301"}, "Enter your practice name"),
        ({"street": "\u200d \u200c", "show_street": "y"}, "Enter your street address"),
        ({"street": "--"}, "Enter your street address"),
        ({"specialties": TEN_SPECIALTIES}, "Choose at most 8 specialties"),
        ({"website": "a" * 290 + ".example"}, "That website address is too long"),
        # Neither is an address urlsplit can take apart: they answered 500.
        ({"website": "https://[::1"}, "Enter your website"),
        ({"website": "reyes-bodywork.example:99999"}, "Enter your website"),
        # Hosts no browser can reach were saved and shown as the practice's website.
        ({"website": "reyes bodywork.example"}, "Enter your website"),
        ({"website": "https://reyes\u200bbodywork.example"}, "Enter your website"),
        ({"website": "https://reyes..bodywork.example"}, "Enter your website"),
        ({"website": "https://<reyes>.example"}, "Enter your website"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_saved(app, client, member, changes, message):
    response = save_form(client, **changes)
    assert response.status_code == 422
    assert message in response.text
    from campus.directory.services import profile_of

    with app.app_context():
        assert profile_of(member) is None


def test_two_practitioners_with_one_name_in_one_city_get_addresses_of_their_own(app):
    from campus.directory.services import profile_of

    clients, slugs = [], []
    for email in ("robin@example.com", "robin.r@example.com"):
        client = app.test_client()
        with app.app_context():
            user_id = support.create_user(email=email, full_name="Robin Reyes").id
            support.sign_in_directly(client, user_id)
        assert save_form(client).status_code == 302
        support.post_form(client, "/directory/me/publish")
        with app.app_context():
            slugs.append(profile_of(user_id).slug)
        clients.append((client, user_id))
    assert slugs == ["robin-reyes-lmt-portland", "robin-reyes-lmt-portland-2"]
    # The first one saved again keeps its own address, not the next free one.
    first, first_id = clients[0]
    assert save_form(first, bio="Now also cupping.").status_code == 302
    with app.app_context():
        assert profile_of(first_id).slug == slugs[0]
    anyone = app.test_client()
    for slug in slugs:
        page = anyone.get(f"/directory/{slug}")
        assert page.status_code == 200 and "Robin Reyes, LMT" in page.text


def test_a_photo_is_checked_reencoded_stored_and_served(app, client, member):
    upload = (io.BytesIO(_png((900, 600))), "me.png")
    assert save_form(client, photo=upload).status_code == 302
    from campus.directory.services import profile_of
    from campus.storage import get_storage

    with app.app_context():
        profile = profile_of(member)
        key = profile.photo_key
        assert key.startswith("directory/photos/") and key.endswith(".jpg")
        stored = get_storage().read(key)
    assert stored.startswith(b"\xff\xd8\xff")
    assert Image.open(io.BytesIO(stored)).size == (480, 320)
    name = key.removeprefix("directory/photos/")
    assert client.get(f"/directory/photos/{name}").status_code == 200  # the owner, unpublished
    assert app.test_client().get(f"/directory/photos/{name}").status_code == 404
    support.post_form(client, "/directory/me/publish")
    served = app.test_client().get(f"/directory/photos/{name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    # Any cache may keep it, but must ask again before each use, so a hidden photo goes at once.
    assert served.headers["Cache-Control"] == "public, no-cache"
    etag = served.headers["ETag"]
    again = app.test_client().get(f"/directory/photos/{name}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    # A moderator's hiding takes the photo down with the profile (the owner still sees it).
    from campus.directory import actions
    from campus.extensions import db

    with app.app_context():
        actions.hide_profile(profile_of(member), "Spam", actor=None)
        db.session.commit()
    assert app.test_client().get(f"/directory/photos/{name}").status_code == 404
    revalidated = app.test_client().get(
        f"/directory/photos/{name}", headers={"If-None-Match": etag}
    )
    assert revalidated.status_code == 404
    assert client.get(f"/directory/photos/{name}").status_code == 200
    # Names no stored photo has, or no photo name at all, find nothing.
    unknown = "1-" + "a" * 20 + ".jpg"  # well formed, but no profile's
    for other in (unknown, "../secret.jpg", name.replace(".jpg", ".png"), "x" * 300):
        assert app.test_client().get(f"/directory/photos/{other}").status_code == 404, other
    # A file lost from storage is a 404 too, not an error.
    with app.app_context():
        get_storage().delete(key)
    assert client.get(f"/directory/photos/{name}").status_code == 404


def test_a_replaced_or_removed_photo_leaves_the_storage(app, client, member):
    """Nobody can see it any more: the member took it down, and it must not outlive them."""
    from campus.directory.services import profile_of
    from campus.storage import get_storage

    keys = []
    for size in ((64, 64), (80, 80)):
        assert save_form(client, photo=(io.BytesIO(_png(size)), "me.png")).status_code == 302
        with app.app_context():
            keys.append(profile_of(member).photo_key)
    with app.app_context():
        assert not get_storage().exists(keys[0]) and get_storage().exists(keys[1])
    assert save_form(client, remove_photo="y").status_code == 302
    with app.app_context():
        assert profile_of(member).photo_key is None
        assert not get_storage().exists(keys[1])


def _stored_photo(app, user_id: int) -> Image.Image:
    from campus.directory.services import profile_of
    from campus.storage import get_storage

    with app.app_context():
        return Image.open(io.BytesIO(get_storage().read(profile_of(user_id).photo_key)))


def test_a_phone_photo_is_stored_the_way_up_the_phone_took_it(app, client, member):
    # Phones save a portrait photo as a landscape image with an Orientation tag saying "turn
    # it a quarter"; the photo was re-encoded without the tag, so the face lay on its side.
    sideways = Image.new("RGB", (600, 400), (200, 80, 40))
    sideways.paste((40, 80, 200), (0, 0, 300, 400))  # the left half blue
    exif = sideways.getexif()
    exif[0x0112] = 6  # the camera's rows run top to bottom: rotate 90 degrees clockwise
    upload = io.BytesIO()
    sideways.save(upload, format="JPEG", exif=exif.tobytes())
    assert (
        save_form(client, photo=(io.BytesIO(upload.getvalue()), "portrait.jpg")).status_code == 302
    )
    photo = _stored_photo(app, member)
    assert photo.size == (320, 480)
    top, bottom = photo.getpixel((160, 20)), photo.getpixel((160, 460))
    assert top[2] > 150 and bottom[0] > 150  # the blue half is on top now


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_a_photo_with_a_transparent_background_keeps_a_white_one(app, client, member, mode):
    # A cut-out portrait's transparent pixels hold black; made opaque as they were, the
    # background came out black.
    cutout = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    cutout.paste((200, 80, 40, 255), (30, 30, 70, 70))
    if mode == "LA":
        cutout = cutout.convert("LA")
    elif mode == "P":
        cutout = cutout.convert("P")  # a palette with one transparent entry
    upload = io.BytesIO()
    cutout.save(upload, format="PNG")
    assert save_form(client, photo=(io.BytesIO(upload.getvalue()), "cutout.png")).status_code == 302
    photo = _stored_photo(app, member)
    assert min(photo.getpixel((5, 5))) > 245  # white where nothing was
    assert photo.getpixel((50, 50))[0] > 100  # the picture itself is still there


def test_a_16_bit_greyscale_photo_keeps_its_shades(app, client, member):
    # Read 8 bits deep, every shade past 255 of 65535 came out white: a white square.
    grey = Image.new("I;16", (100, 100), 16384)  # a quarter of full brightness
    grey.paste(Image.new("I;16", (50, 100), 49152), (0, 0))  # the left half three quarters
    upload = io.BytesIO()
    grey.save(upload, format="PNG")
    assert save_form(client, photo=(io.BytesIO(upload.getvalue()), "scan.png")).status_code == 302
    photo = _stored_photo(app, member)
    left, right = photo.getpixel((25, 50))[0], photo.getpixel((75, 50))[0]
    assert abs(left - 191) <= 3 and abs(right - 64) <= 3


def test_a_small_file_of_a_huge_image_is_refused_before_it_is_decoded(app, client, member):
    # 20 megapixels of one colour fit in 90 KB of PNG; decoded and flattened, 40 million took
    # some 650 MB of memory and a second, on every save of the profile form.
    flat = io.BytesIO()
    Image.new("RGBA", (5000, 4000), (200, 80, 40, 255)).save(flat, format="PNG")
    assert len(flat.getvalue()) < 200 * 1024
    response = save_form(client, photo=(io.BytesIO(flat.getvalue()), "flat.png"))
    assert response.status_code == 422
    assert "too many pixels" in response.text
    from campus.directory.services import profile_of

    with app.app_context():
        assert profile_of(member) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\0" * 100, "Upload a JPEG, PNG or WebP photo"),
        (b"<?php echo 1; ?>", "Upload a JPEG, PNG or WebP photo"),
        (b"\x89PNG\r\n\x1a\n" + b"not really a png", "not a photo we can read"),
        (b"\xff\xd8\xff" + b"\0" * (120 * 1024), "too large: at most 100 KB"),
    ],
)
def test_a_file_that_is_not_a_small_photo_is_refused(
    app, client, member, monkeypatch, data, message
):
    # A smaller limit than the real one: the test client leaves a body past 500 KB in an
    # unclosed temporary file.
    from campus.directory import photos

    monkeypatch.setattr(photos, "MAX_PHOTO_BYTES", 100 * 1024)
    response = save_form(client, photo=(io.BytesIO(data), "photo.jpg"))
    assert response.status_code == 422
    assert message in response.text
    from campus.directory.services import profile_of

    with app.app_context():
        assert profile_of(member) is None


def _damaged(kind: str) -> bytes:
    """A real image file damaged the way a broken download or a bad disk leaves one."""
    import struct

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="PNG" if "png" in kind else "JPEG")
    data = bytearray(out.getvalue())
    if kind == "png-empty-chunk":  # Pillow raises SyntaxError ("broken PNG file")
        at = data.index(b"IDAT") - 4
        data[at : at + 4] = struct.pack(">I", 0)
    elif kind == "png-cut":
        data = data[: len(data) // 2]
    elif kind == "jpeg-cut":
        data = data[: len(data) // 3]
    elif kind == "jpeg-garbled":
        start = data.index(b"\xff\xda")  # the scan's header and what follows it
        data[start + 2 : start + 12] = b"\xff" * 10
    return bytes(data)


@pytest.mark.parametrize("kind", ["png-empty-chunk", "png-cut", "jpeg-cut", "jpeg-garbled"])
def test_a_damaged_photo_is_refused_with_a_sentence(app, client, member, kind):
    response = save_form(client, photo=(io.BytesIO(_damaged(kind)), "photo.png"))
    assert response.status_code == 422
    assert "not a photo we can read" in response.text
    from campus.directory.services import profile_of

    with app.app_context():
        assert profile_of(member) is None


def test_the_practitioner_sees_impressions_and_messages(app, client, member):
    save_form(client)
    support.post_form(client, "/directory/me/publish")
    app.test_client().get("/directory/?zip=04101")
    app.test_client().get("/directory/?zip=04101&radius=50")
    page = client.get("/directory/me").text
    assert "Searches that showed you</dt><dd>2</dd>" in page
    assert "Messages received</dt><dd>0</dd>" in page


def test_the_profile_page_carries_json_ld_the_csp_allows(app, client):
    with app.app_context():
        slug = make_profile("10001", display_name="Jay Doe", practice_name="Doe & <Co>").slug
    page = client.get(f"/directory/{slug}")
    html = page.text
    assert '<script type="application/ld+json">' in html
    import json
    import re

    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block  # the practice name's markup is escaped inside the data block
    data = json.loads(block)
    assert data["@type"] == "Person" and data["name"] == "Jay Doe"
    assert data["worksFor"]["name"] == "Doe & <Co>"
    assert data["address"]["postalCode"] == "10001"
    # A data block is not a script: script-src 'self' stays as strict as everywhere else.
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]


def _jsonld(html: str) -> str:
    import re

    return re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)


def test_the_profile_page_shows_ce_hours_from_the_last_two_years(app, client):
    from tests.certificates.helpers import complete_course, student
    from tests.learning.helpers import make_course

    with app.app_context():
        user = student(email="earner@example.com")
        complete_course(user.id, make_course("directory-hours", ce_hours="2"))
        slug = make_profile("10001", user=user).slug
    page = client.get(f"/directory/{slug}").text
    assert "Verified by" in page and "<strong>2 CE hours</strong>" in page
    assert "earned on" in page


def test_no_hours_earned_shows_no_ce_hours_badge_but_keeps_the_others(app, client):
    from campus.extensions import db
    from campus.licenses.models import License

    with app.app_context():
        user = support.create_user()
        slug = make_profile("10001", user=user).slug
        user_id = user.id
    # Nothing to vouch for: no "0 CE hours earned" badge, and no empty "Verified by" box.
    page = client.get(f"/directory/{slug}").text
    assert "CE hour" not in page and "earned on" not in page and "Verified by" not in page
    assert "CE hour" not in _jsonld(page)
    with app.app_context():
        db.session.add(
            License(user_id=user_id, profession="massage_therapist", jurisdiction="ME", number="1")
        )
        db.session.commit()
    page = client.get(f"/directory/{slug}").text
    assert "Verified by" in page and "License on file" in page
    assert "CE hour" not in page and "earned on" not in page


def test_robots_points_to_the_directory_and_site_sitemaps(client):
    robots = client.get("/robots.txt").text
    sitemaps = [
        line.split("//", 1)[1].split("/", 1)[1]  # the path after the host
        for line in robots.splitlines()
        if line.startswith("Sitemap: ")
    ]
    assert sitemaps == ["directory/sitemap.xml", "sitemap.xml"]


def _crawler_may_fetch(robots: str, path: str) -> bool:
    """Read robots.txt as RFC 9309 says: the longest matching rule wins, "*" and "$" special."""
    best, allowed = -1, True
    for line in robots.splitlines():
        rule, _, pattern = line.partition(":")
        pattern = pattern.strip()
        if rule not in ("Allow", "Disallow") or not pattern:
            continue
        anchored = pattern.endswith("$")
        regex = ".*".join(re.escape(part) for part in pattern.rstrip("$").split("*"))
        if re.match(regex + ("$" if anchored else ""), path) and len(pattern) > best:
            best, allowed = len(pattern), rule == "Allow"
    return allowed


def test_robots_lets_crawlers_read_a_profile_whose_address_starts_like_the_private_page(
    app, client
):
    """A prefix rule for /directory/me shut out every "megan-..." or "melissa-..." profile."""
    with app.app_context():
        slug = make_profile("10001", display_name="Megan Lee, LMT").slug
    assert slug.startswith("me")
    robots = client.get("/robots.txt").text
    assert f"/directory/{slug}" in client.get("/directory/sitemap.xml").text
    assert _crawler_may_fetch(robots, f"/directory/{slug}")
    assert _crawler_may_fetch(robots, "/directory/")
    for private in ("/directory/me", "/directory/me/publish", "/admin/", "/account/licenses"):
        assert not _crawler_may_fetch(robots, private), private


def test_an_imported_profile_is_logged_as_the_operators_change_not_the_members(app, tmp_path):
    with app.app_context():
        existing = support.create_user(email="kept@example.com")
        existing_id = existing.id
    listing = tmp_path / "profiles.yaml"
    listing.write_text(
        "- email: new@example.com\n"
        "  display_name: New Practitioner, LMT\n"
        "  professions: [massage_therapist]\n"
        "  specialties: [trigger-point-therapy]\n"
        '  zip_code: "04101"\n'
        "  published: true\n"
        "- email: kept@example.com\n"
        "  display_name: Kept Practitioner, LMT\n"
        "  professions: [massage_therapist]\n"
        '  zip_code: "04101"\n',
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(
        args=["directory", "import", str(listing), "--create-members"]
    )
    assert result.exit_code == 0, result.output

    [created] = audit_entries(app, action="member_created")
    assert created.actor_email == "system" and created.actor_id is None
    assert "new@example.com" in created.summary and created.summary.startswith("cli:")
    changes = [
        entry
        for action in ("directory_create", "directory_publish")
        for entry in audit_entries(app, action=action)
    ]
    assert len(changes) == 3  # two profiles created, one published
    # Nobody signed in as either member: the log must not say they made these changes.
    assert {(e.actor_email, e.actor_id) for e in changes} == {("system", None)}
    assert existing_id not in {e.actor_id for e in changes}


def test_importing_the_same_profiles_again_logs_no_change(app, tmp_path):
    listing = tmp_path / "profiles.yaml"
    listing.write_text(
        "- email: new@example.com\n"
        "  display_name: New Practitioner, LMT\n"
        "  professions: [massage_therapist]\n"
        "  specialties: [trigger-point-therapy]\n"
        '  zip_code: "04101"\n'
        "  published: true\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    for _run in range(2):
        result = runner.invoke(args=["directory", "import", str(listing), "--create-members"])
        assert result.exit_code == 0, result.output
    # The second run changed nothing: no entry says the profile was saved or published again.
    assert [e.action for e in audit_entries(app) if e.action.startswith("directory_")] == [
        "directory_create",
        "directory_publish",
    ]


def test_a_published_profile_keeps_a_specialty_and_an_unpublished_one_may_drop_them(
    app, client, member
):
    from campus.directory.services import profile_of

    assert save_form(client).status_code == 302
    support.post_form(client, "/directory/me/publish")
    response = save_form(client, specialties=[], display_name="Robin Reyes")
    assert response.status_code == 422
    assert "A published profile needs at least one specialty" in response.text
    with app.app_context():
        profile = profile_of(member)
        assert profile.is_listed and profile.display_name == "Robin Reyes, LMT"
        assert profile.specialty_keys == ["sports-massage", "trigger-point-therapy"]
    support.post_form(client, "/directory/me/unpublish")
    assert save_form(client, specialties=[]).status_code == 302
    with app.app_context():
        assert profile_of(member).specialty_keys == []


def test_robots_keeps_crawlers_out_of_the_private_pages_under_the_sites_path_prefix(_database):
    app = support.make_app(PROXY_FIX_X_PREFIX=1)
    try:
        robots = app.test_client().get("/robots.txt", headers={"X-Forwarded-Prefix": "/campus"})
        disallowed = [line for line in robots.text.splitlines() if line.startswith("Disallow:")]
        assert disallowed == [
            "Disallow: /campus/admin/",
            "Disallow: /campus/account/",
            "Disallow: /campus/api/",
            "Disallow: /campus/directory/me$",
            "Disallow: /campus/directory/me/",
        ]
    finally:
        support.clean_database(app)


def test_a_photo_saved_in_a_change_that_fails_to_commit_leaves_the_storage(
    app, client, member, monkeypatch
):
    """Its file was stored before the commit: a commit that fails must not leave it behind."""
    from sqlalchemy.exc import OperationalError

    from campus.directory.services import profile_of
    from campus.extensions import db
    from campus.storage import get_storage

    assert save_form(client, photo=(io.BytesIO(_png((64, 64))), "me.png")).status_code == 302
    with app.app_context():
        old = profile_of(member).photo_key
    stored_before = set(_photo_files(app))

    def failing_commit():
        db.session.rollback()
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(OperationalError):
        save_form(client, photo=(io.BytesIO(_png((80, 80))), "new.png"))
    monkeypatch.undo()
    with app.app_context():
        assert profile_of(member).photo_key == old
        assert get_storage().exists(old)  # the photo the profile still shows stays
    assert set(_photo_files(app)) == stored_before


def _photo_files(app) -> list[str]:
    from campus.storage import LocalStorage, get_storage

    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, LocalStorage)
        folder = storage.root / "directory" / "photos"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_browser_revalidating_an_unchanged_photo_costs_no_read_from_storage(app, client, member):
    """Each listed photo is asked about on every page view: a 304 must not fetch it from S3."""
    from campus.directory.services import profile_of
    from campus.storage import get_storage

    assert save_form(client, photo=(io.BytesIO(_png((200, 200))), "me.png")).status_code == 302
    support.post_form(client, "/directory/me/publish")
    with app.app_context():
        name = profile_of(member).photo_key.removeprefix("directory/photos/")
        store = get_storage()
    etag = app.test_client().get(f"/directory/photos/{name}").headers["ETag"]

    calls = []

    class Counting:
        def __getattr__(self, attribute):
            calls.append(attribute)
            return getattr(store, attribute)

    app.extensions["storage"] = Counting()
    try:
        again = app.test_client().get(f"/directory/photos/{name}", headers={"If-None-Match": etag})
    finally:
        app.extensions["storage"] = store
    assert again.status_code == 304 and not again.data
    assert calls == []


def test_a_profile_at_a_military_zip_code_is_refused(app, client, member):
    """An APO ZIP has no place: saved, the profile sat at 0, 0, found from any other base."""
    response = save_form(client, zip_code="09001")
    assert response.status_code == 422 and "military" in response.text
    from campus.directory.services import profile_of

    with app.app_context():
        assert profile_of(member) is None


@pytest.mark.parametrize(
    "website", ["bücher-reyes.example", "https://www.reyes-bodywork.example./about"]
)
def test_a_website_of_any_script_or_a_full_stop_at_the_end_is_kept(app, member, client, website):
    assert save_form(client, website=website).status_code == 302
    from campus.directory.services import profile_of

    with app.app_context():
        assert profile_of(member).website.endswith(website)
