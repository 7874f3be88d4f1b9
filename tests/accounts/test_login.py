import re

import pytest
from sqlalchemy import select

from campus.accounts.models import User, UserSession
from campus.accounts.sessions import hash_token
from campus.extensions import db
from tests.support import DEFAULT_PASSWORD, create_user, csrf_token, login, post_form


@pytest.fixture
def user(app):
    with app.app_context():
        return create_user(email="sam@example.com").id


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_login_rotates_the_session(app, client, user):
    token_before = csrf_token(client, "/login")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker value"
    before = _session_cookie(client)
    login(client, "SAM@example.com")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        token = sess["_user_id"]
    assert not token.startswith(f"{user}:")  # a random token, not the user's id
    with app.app_context():
        assert (
            db.session.scalar(
                select(UserSession.user_id).where(UserSession.token_hash == hash_token(token))
            )
            == user
        )
    assert _session_cookie(client) != before
    assert csrf_token(client) != token_before


def test_wrong_password_is_refused_with_a_message(client, user):
    response = post_form(client, "/login", {"email": "sam@example.com", "password": "wrong one!"})
    assert response.status_code == 422
    assert "email or password is not correct" in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_unknown_user_gets_the_same_message(client):
    response = post_form(
        client, "/login", {"email": "nobody@example.com", "password": "whatever!!"}
    )
    assert response.status_code == 422
    assert "email or password is not correct" in response.get_data(as_text=True)


def test_disabled_account_cannot_log_in(app, client, user):
    from campus.models.base import utcnow

    with app.app_context():
        db.session.get(User, user).disabled_at = utcnow()
        db.session.commit()
    response = post_form(
        client, "/login", {"email": "sam@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 422


def test_logout_ends_the_session(client, user):
    login(client, "sam@example.com")
    assert client.get("/api/v1/me").status_code == 200
    assert post_form(client, "/logout").status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_logout_by_get_is_not_allowed(client, user):
    login(client, "sam@example.com")
    assert client.get("/logout").status_code == 405
    assert client.get("/api/v1/me").status_code == 200


def test_remember_me_sets_a_cookie_that_restores_the_session(app, client, user):
    login(client, "sam@example.com", remember="y")
    remember = client.get_cookie("remember_token")
    assert remember is not None
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    assert fresh.get("/api/v1/me").status_code == 200


def test_login_is_rate_limited(app, client, user):
    statuses = []
    for _ in range(7):
        r = post_form(client, "/login", {"email": "sam@example.com", "password": "wrong one!"})
        statuses.append(r.status_code)
    assert statuses[:5] == [422] * 5
    assert statuses[5:] == [429, 429]
    assert "Too many attempts" in r.get_data(as_text=True)


def test_next_parameter_only_goes_to_this_site(client, user):
    r = post_form(
        client,
        "/login?next=https://evil.example/steal",
        {"email": "sam@example.com", "password": DEFAULT_PASSWORD},
    )
    assert r.headers["Location"] == "/"


def test_next_parameter_keeps_a_local_path(client, user):
    r = post_form(
        client, "/login?next=/account", {"email": "sam@example.com", "password": DEFAULT_PASSWORD}
    )
    assert r.headers["Location"] == "/account"


def test_a_site_under_a_path_prefix_signs_in_back_to_the_page_asked_for(app, client, user):
    # Behind a proxy that serves the site at /campus/, "next" must name the page with the
    # prefix, like every link on the site: "/account" is another site's page on that host.
    from urllib.parse import parse_qs, urlsplit

    from tests.content.helpers import make_article

    with app.app_context():
        make_article(slug="piriformis", visibility="paid")
    prefix = {"base_url": "http://localhost/campus"}
    to_login = urlsplit(client.get("/account", **prefix).headers["Location"])
    assert to_login.path == "/campus/login"
    assert parse_qs(to_login.query)["next"] == ["/campus/account"]
    page = client.get("/articles/piriformis", **prefix).get_data(as_text=True)
    assert "next=/campus/articles/piriformis" in page.replace("%2F", "/")
    token = csrf_token(client, "/login")
    signed_in = client.post(
        "/login?next=/campus/account",
        data={"csrf_token": token, "email": "sam@example.com", "password": DEFAULT_PASSWORD},
        **prefix,
    )
    assert signed_in.headers["Location"] == "/campus/account"


def test_login_page_has_labelled_fields(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'<label for="email">Email</label>', html)
    assert 'autocomplete="current-password"' in html


def test_a_member_signed_in_to_another_page_is_greeted_there_and_home_is_not_greeted_twice(
    client, user
):
    landed = post_form(
        client,
        "/login?next=/courses/",
        {"email": "sam@example.com", "password": DEFAULT_PASSWORD},
        follow_redirects=True,
    )
    assert landed.request.path == "/courses/"
    assert "Welcome back" in landed.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/courses/")})
    home = post_form(
        client,
        "/login",
        {"email": "sam@example.com", "password": DEFAULT_PASSWORD},
        follow_redirects=True,
    )
    page = home.get_data(as_text=True)
    assert home.request.path == "/" and "<h1>Welcome," in page and "Welcome back" not in page


def _focused(page: str) -> list[str]:
    """The names of the form controls that take the focus when the page opens."""
    return [
        re.search(r'name="([^"]+)"', tag).group(1)
        for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", page)
        if re.search(r"\bautofocus\b", tag)
    ]


def test_a_refused_sign_in_puts_the_focus_on_the_field_that_says_why(app, client, user):
    # A screen reader reads the focused field's error; the email field would say nothing.
    assert _focused(client.get("/login").text) == ["email"]
    refused = post_form(client, "/login", {"email": "sam@example.com", "password": "wrong!!"})
    assert refused.status_code == 422
    assert _focused(refused.text) == ["password"]
    tag = re.search(r'<input[^>]*name="password"[^>]*>', refused.text).group(0)
    assert 'aria-invalid="true"' in tag and 'aria-describedby="password-msg"' in tag


def _first_invalid(page: str) -> list[str]:
    tags = [t for t in re.findall(r"<(?:input|select|textarea)[^>]*>", page) if "aria-invalid" in t]
    return [re.search(r'name="([^"]+)"', tags[0]).group(1)] if tags else []


def test_the_sign_up_and_reset_forms_put_the_focus_on_their_first_error(app, client):
    signup = post_form(client, "/signup", {"full_name": "Riley", "email": "no", "password": "x"})
    assert signup.status_code == 422
    assert _first_invalid(signup.text) and _focused(signup.text) == _first_invalid(signup.text)
    reset = post_form(client, "/password/reset", {"email": "not an address"})
    assert _focused(reset.text) == _first_invalid(reset.text) == ["email"]
