"""Flask extensions, created unbound and initialised by create_app."""

from typing import TYPE_CHECKING

from flask import Response, current_app
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_login.config import COOKIE_NAME
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from campus.api.spec import CampusApi, ErrorResponsesPlugin
from campus.models.base import Base
from campus.throttling import by_address


class CampusLoginManager(LoginManager):
    """Flask-Login's manager, deleting the remember cookie with the attributes it was set with."""

    def _clear_cookie(self, response: Response) -> None:
        # A browser ignores a __Host- cookie (production's name) sent without Secure, its
        # deletion too: Flask-Login deletes it bare, so it outlived every sign-out.
        config = current_app.config
        response.delete_cookie(
            config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME),
            domain=config.get("REMEMBER_COOKIE_DOMAIN"),
            path=config.get("REMEMBER_COOKIE_PATH", "/"),
            secure=bool(config.get("REMEMBER_COOKIE_SECURE")),
            httponly=bool(config.get("REMEMBER_COOKIE_HTTPONLY")),
            samesite=config.get("REMEMBER_COOKIE_SAMESITE"),
        )


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = CampusLoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=by_address, default_limits=[])
api = CampusApi(spec_kwargs={"extra_plugins": [ErrorResponsesPlugin()]})

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds db.Model from Base at run time; type checkers see Base.
    Model = Base
else:
    Model = db.Model
