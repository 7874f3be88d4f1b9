"""Account endpoints of the JSON API."""

from __future__ import annotations

from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import fields

from campus.accounts.models import User
from campus.api.spec import SIGNED_IN, ErrorSchema, ResponseSchema

blp = Blueprint("accounts_api", __name__, description="The signed-in user")


class MembershipSchema(ResponseSchema):
    status = fields.String(
        metadata={
            "description": "The Stripe subscription's status (active, trialing, past_due, "
            "canceled, ...); comp for a complimentary membership given by the provider; "
            "none without either"
        }
    )
    has_access = fields.Boolean()
    current_period_end = fields.DateTime(allow_none=True)
    cancel_at_period_end = fields.Boolean()


class MeSchema(ResponseSchema):
    id = fields.Integer()
    email = fields.Email()
    full_name = fields.String()
    profession = fields.String()
    license_number = fields.String(
        allow_none=True, metadata={"description": "The first license's number; see /me/licenses"}
    )
    license_state = fields.String(
        allow_none=True,
        metadata={"description": "The first license's state or credential; see /me/licenses"},
    )
    role = fields.String()
    email_verified = fields.Boolean()
    membership = fields.Nested(MembershipSchema)


def membership_summary(user: User) -> dict:
    """Describe the user's membership for the API."""
    from campus.billing.access import has_paid_access, membership_state

    state = membership_state(user)
    return {
        "status": state.status,
        "has_access": has_paid_access(user),
        "current_period_end": state.current_period_end,
        "cancel_at_period_end": state.cancel_at_period_end,
    }


@blp.route("/me")
@blp.doc(security=SIGNED_IN)
@blp.response(200, MeSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@login_required
def me() -> dict:
    """Return the signed-in user and their membership."""
    from campus.licenses.services import licenses_for

    user: User = current_user._get_current_object()
    first = next(iter(licenses_for(user.id)), None)
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "profession": user.profession,
        "license_number": first.number if first else None,
        "license_state": first.jurisdiction if first else None,
        "role": user.role,
        "email_verified": user.is_verified,
        "membership": membership_summary(user),
    }
