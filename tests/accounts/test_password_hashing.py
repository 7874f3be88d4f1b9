"""Argon2 parameters: the library's recommendation in production, the cheapest in the tests."""

import unicodedata

import pytest
from argon2 import extract_parameters, profiles

import config
from campus.accounts import services
from campus.extensions import db
from tests.support import DEFAULT_PASSWORD, create_user, login, post_form


def test_every_deployed_environment_hashes_with_argon2s_recommended_parameters(app):
    for environment in ("development", "production"):
        assert config.CONFIGS[environment].PASSWORD_HASH_PROFILE == "RFC_9106_LOW_MEMORY"
    app.config["PASSWORD_HASH_PROFILE"] = config.ProductionConfig.PASSWORD_HASH_PROFILE
    with app.app_context():
        hashed = services.hash_password(DEFAULT_PASSWORD)
    assert extract_parameters(hashed) == profiles.RFC_9106_LOW_MEMORY


def test_outside_an_app_passwords_are_hashed_with_the_recommended_parameters():
    hashed = services.hash_password(DEFAULT_PASSWORD)
    assert extract_parameters(hashed) == profiles.RFC_9106_LOW_MEMORY


def test_the_tests_hash_with_the_cheapest_parameters(app):
    with app.app_context():
        hashed = services.hash_password(DEFAULT_PASSWORD)
        assert extract_parameters(hashed) == profiles.CHEAPEST
        # A login for an unknown email costs what a real one costs under the same parameters.
        assert extract_parameters(services._hasher.dummy_hash) == profiles.CHEAPEST


def test_a_weaker_hash_is_upgraded_at_the_next_sign_in(app):
    with app.app_context():
        user = create_user(email="kim@example.com")
        app.config["PASSWORD_HASH_PROFILE"] = "RFC_9106_LOW_MEMORY"
        assert services.authenticate("kim@example.com", DEFAULT_PASSWORD) is user
        db.session.commit()
        assert extract_parameters(user.password_hash) == profiles.RFC_9106_LOW_MEMORY
        assert services.verify_password(user, DEFAULT_PASSWORD)


def test_an_unknown_hash_profile_is_refused(app):
    app.config["PASSWORD_HASH_PROFILE"] = "FASTEST"
    with app.app_context(), pytest.raises(RuntimeError, match="FASTEST"):
        services.hash_password(DEFAULT_PASSWORD)


COMPOSED = unicodedata.normalize("NFC", "crème brûlée à la façon")
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


@pytest.mark.parametrize(("chosen", "typed"), [(COMPOSED, DECOMPOSED), (DECOMPOSED, COMPOSED)])
def test_a_password_with_accents_signs_in_however_the_keyboard_composed_them(
    app, client, chosen, typed
):
    # One keyboard sends "è" as one character, another as "e" and a combining accent: the
    # same password, which signed in only as it was first typed.
    form = {"full_name": "Kim Lee", "email": "kim@example.com", "password": chosen}
    assert post_form(client, "/signup", {**form, "profession": "other"}).status_code == 200
    login(app.test_client(), "kim@example.com", chosen)
    login(app.test_client(), "kim@example.com", typed)


def test_a_password_hashed_as_typed_before_still_signs_in_and_then_in_either_form(app):
    with app.app_context():
        user = create_user(email="kim@example.com")
        user.password_hash = services._hasher._current()[0].hash(DECOMPOSED)
        db.session.commit()
        assert services.authenticate("kim@example.com", DECOMPOSED) is user
        db.session.commit()
        assert services.verify_password(user, COMPOSED)
        assert services.authenticate("kim@example.com", COMPOSED) is user
