"""The member's page: making a member an assessor, and taking the role back."""

from __future__ import annotations

from flask import abort
from flask_admin import expose
from flask_login import current_user

from campus.accounts import roles
from campus.admin.forms import RoleForm

# What the admin is told once the change is made, by the role given.
DONE = {
    "assessor": "{email} is now an assessor and is signed out everywhere.",
    "student": "{email} is no longer an assessor and is signed out everywhere.",
}


class MemberRoleViews:
    """Role buttons of MemberView (sensitive: a fresh password and code first)."""

    @expose("/<int:user_id>/role", methods=("POST",))
    def set_role(self, user_id: int):
        """Give the member the role the button names (student or assessor)."""
        user = self._member_or_404(user_id)  # type: ignore[attr-defined]
        form = RoleForm()
        if not form.validate_on_submit():
            # The page only offers the two roles: anything else was not sent by its buttons.
            abort(400, "That is not a role given here: a member is a student or an assessor.")
        role = form.role.data
        return self._run(  # type: ignore[attr-defined]
            user,
            lambda: roles.set_role(user, role, actor=current_user._get_current_object()),
            DONE[role].format(email=user.email),
        )
