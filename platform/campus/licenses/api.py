"""License endpoints of the JSON API."""

from __future__ import annotations

from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import fields

from campus.api.spec import SIGNED_IN, ErrorSchema, ResponseSchema
from campus.licenses.services import licenses_for

blp = Blueprint("licenses_api", __name__, description="The signed-in user's licenses")


class LicenseSchema(ResponseSchema):
    id = fields.Integer()
    profession = fields.String(metadata={"description": "massage_therapist, physical_therapist, …"})
    profession_label = fields.String()
    jurisdiction = fields.String(
        metadata={"description": "US state code (FL) or national credential (NCBTMB)"}
    )
    jurisdiction_label = fields.String()
    number = fields.String()
    expires_on = fields.Date(allow_none=True)
    expired = fields.Boolean(metadata={"description": "Past its expiry day (the provider's)"})
    reminders = fields.Boolean(
        metadata={
            "description": "The member's switch for renewal reminder emails; whether any go "
            "out is reminders_active"
        }
    )
    reminders_active = fields.Boolean(
        metadata={
            "description": "Renewal reminders go out (90, 30 and 7 days before expiry): "
            "switched on, with an expiry date, and not expired"
        }
    )


class LicenseListSchema(ResponseSchema):
    licenses = fields.List(fields.Nested(LicenseSchema))


@blp.route("/me/licenses")
@blp.doc(security=SIGNED_IN)
@blp.response(200, LicenseListSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@login_required
def my_licenses() -> dict:
    """Return the signed-in user's licenses, oldest first."""
    return {"licenses": licenses_for(current_user.id)}
