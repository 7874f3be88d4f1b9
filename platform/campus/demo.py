"""Demo content for the embedded default: idempotent, safe to run on every start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import click

from campus.accounts.creation import create_member
from campus.accounts.services import create_admin, get_user_by_email
from campus.extensions import db

ADMIN_EMAIL = "admin@campus.example"
ADMIN_PASSWORD = "campus-admin-demo"
STUDENT_EMAIL = "student@campus.example"
STUDENT_PASSWORD = "campus-student-demo"
# Reviews program practicals in the admin; like admins, sets up TOTP on first visit.
ASSESSOR_EMAIL = "assessor@campus.example"
ASSESSOR_PASSWORD = "campus-assessor-demo"
# A member who already pays (a comp membership, so no checkout is needed to see paid pages).
MEMBER_EMAIL = "member@campus.example"
MEMBER_PASSWORD = "campus-member-demo"


def seed_accounts() -> list[str]:
    """Create the demo admin, student and assessor if they are missing (each logged)."""
    lines = []
    if get_user_by_email(ADMIN_EMAIL) is None:
        create_admin(ADMIN_EMAIL, ADMIN_PASSWORD, full_name="Dana Whitfield")
        lines.append(f"created admin {ADMIN_EMAIL}")
    if get_user_by_email(STUDENT_EMAIL) is None:
        create_member(
            STUDENT_EMAIL,
            STUDENT_PASSWORD,
            full_name="Jordan Alvarez",
            profession="massage_therapist",
            why="for the demo",
        )
        lines.append(f"created student {STUDENT_EMAIL}")
    if get_user_by_email(ASSESSOR_EMAIL) is None:
        create_member(
            ASSESSOR_EMAIL,
            ASSESSOR_PASSWORD,
            full_name="Sam Okoye",
            profession="physical_therapist",
            role="assessor",
            why="for the demo",
        )
        lines.append(f"created assessor {ASSESSOR_EMAIL}")
    lines.extend(_seed_paying_member())
    db.session.flush()
    return lines


def _seed_paying_member() -> list[str]:
    """Create the demo member and keep them paying (a comp, renewed once it has run out)."""
    from campus.billing import actions
    from campus.billing.access import has_paid_access
    from campus.licenses.actions import add_license

    lines = []
    member = get_user_by_email(MEMBER_EMAIL)
    if member is None:
        member = create_member(
            MEMBER_EMAIL,
            MEMBER_PASSWORD,
            full_name="Riley Okafor",
            profession="massage_therapist",
            why="for the demo",
        )
        # A Florida license: its renewal tracker and CE Broker reporting show in the demo.
        add_license(
            member,
            profession="massage_therapist",
            jurisdiction="FL",
            number="MA98765",
            expires_on=date(2027, 8, 31),
        )
        lines.append(f"created member {MEMBER_EMAIL}")
    if not has_paid_access(member):
        actions.grant_comp(member, days=365, reason="Demo paying member", actor=None)
        lines.append(f"comp membership for {MEMBER_EMAIL}")
    return lines


def seeders() -> list[Callable[[], list[str]]]:
    """The accounts seeder, then each feature's seeder in registration order."""
    from campus.features import all_features

    return [seed_accounts] + [f.seed for f in all_features() if f.seed is not None]


def seed_demo() -> list[str]:
    """Run every seeder (each idempotent) and return what they created."""
    created: list[str] = []
    for seeder in seeders():
        created.extend(seeder())
    return created


def print_logins() -> None:
    """Print the demo logins."""
    click.echo("Demo logins:")
    click.echo(f"  admin    {ADMIN_EMAIL} / {ADMIN_PASSWORD}")
    click.echo(f"  student  {STUDENT_EMAIL} / {STUDENT_PASSWORD}  (not paying yet: try checkout)")
    click.echo(f"  member   {MEMBER_EMAIL} / {MEMBER_PASSWORD}  (paying: a comp membership)")
    click.echo(f"  assessor {ASSESSOR_EMAIL} / {ASSESSOR_PASSWORD}  (sets up TOTP on first visit)")
