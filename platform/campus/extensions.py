"""Flask extensions, created unbound and initialised by create_app."""

from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from campus.api.spec import CampusApi, ErrorResponsesPlugin
from campus.models.base import Base
from campus.throttling import by_address

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=by_address, default_limits=[])
api = CampusApi(spec_kwargs={"extra_plugins": [ErrorResponsesPlugin()]})

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds db.Model from Base at run time; type checkers see Base.
    Model = Base
else:
    Model = db.Model
