"""Two admins editing one record at once: a save made on an older page changes nothing.

Flask-Admin saves every field of its form, so a page opened before another admin's save put
back what that admin changed (a published course back to draft, a lesson's rewritten body back
to the old one), and the log showed it as this admin's own change. The edit page carries a
fingerprint of the record as it showed it; the save compares it with the record as it is now.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from flask import flash, request
from wtforms import HiddenField

from campus.audit import snapshot
from campus.extensions import db
from campus.models.writes import lock_row

if TYPE_CHECKING:  # the mixin is only ever mixed into the admin's model views
    from campus.admin.base import AuditedModelView as _ViewBase
else:
    _ViewBase = object

CHANGED = (
    "Another admin changed this record since you opened it: nothing was saved, so their change "
    "stays. Open the page again to see it, then make your change there."
)


class OpenedAs(HiddenField):
    """The fingerprint of the record the edit page showed; never copied onto the record."""

    def populate_obj(self, obj: Any, name: str) -> None:
        pass


def digest(shown: dict[str, Any]) -> str:
    """A digest of what an edit page shows, as JSON-safe data."""
    text = json.dumps(shown, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(obj: Any) -> str:
    """A digest of what an edit page shows of a record: its audited columns and rows."""
    return digest(snapshot(obj))


class GuardedEdits(_ViewBase):
    """A model view whose edit refuses a page opened before someone else's save."""

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.opened_as = OpenedAs()
        return form_class

    def fingerprint_of(self, obj: Any) -> str:
        """The fingerprint of what this view's edit page shows of a record."""
        return fingerprint(obj)

    def edit_form(self, obj: Any = None):
        form = super().edit_form(obj)
        if obj is not None and request.method == "GET":
            form.opened_as.data = self.fingerprint_of(obj)
        return form

    def changed_since_opened(self, form: Any, model: Any) -> bool:
        """Whether someone saved the record after this form's page was opened (then say so)."""
        opened = getattr(form, "opened_as", None)
        if opened is None or not opened.data:
            return False
        # Held to the commit: of two saves at once, the second reads the first's change.
        lock_row(type(model), model.id)
        db.session.refresh(model)
        # As bytes: compare_digest refuses a str with non-ASCII characters (a 500).
        if hmac.compare_digest(str(opened.data).encode(), self.fingerprint_of(model).encode()):
            return False
        db.session.rollback()
        flash(CHANGED, "error")
        return True

    def update_model(self, form: Any, model: Any) -> bool:
        if self.changed_since_opened(form, model):
            return False
        return super().update_model(form, model)
