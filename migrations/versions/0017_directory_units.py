"""directory: each profile's point on the unit sphere; the search index alone finds who is near

Revision ID: 0017_directory_units
Revises: 0016_search_inline
Create Date: 2026-12-02 05:40:00

"""
import math

import sqlalchemy as sa
from alembic import op


revision = "0017_directory_units"
down_revision = "0016_search_inline"
branch_labels = None
depends_on = None

OLD_INDEX = ["listed", "lat", "lon", "specialty_mask", "profession_mask", "id", "user_id"]
NEW_INDEX = [
    "listed",
    "lat",
    "lon",
    "specialty_mask",
    "profession_mask",
    "unit_x",
    "unit_y",
    "unit_z",
    "id",
]
profiles = sa.table(
    "directory_profiles",
    sa.column("id", sa.Integer),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
    sa.column("unit_x", sa.Float),
    sa.column("unit_y", sa.Float),
    sa.column("unit_z", sa.Float),
)


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    # campus.directory.geo.unit_vector as of this revision (a migration keeps its own copy).
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def upgrade():
    with op.batch_alter_table("directory_profiles", schema=None) as batch_op:
        for name in ("unit_x", "unit_y", "unit_z"):
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(profiles.c.id, profiles.c.lat, profiles.c.lon)).all()
    if rows:
        values = []
        for profile_id, lat, lon in rows:
            x, y, z = _unit_vector(lat, lon)
            values.append({"pid": profile_id, "x": x, "y": y, "z": z})
        bind.execute(
            profiles.update()
            .where(profiles.c.id == sa.bindparam("pid"))
            .values(unit_x=sa.bindparam("x"), unit_y=sa.bindparam("y"), unit_z=sa.bindparam("z")),
            values,
        )
    with op.batch_alter_table("directory_profiles", schema=None) as batch_op:
        for name in ("unit_x", "unit_y", "unit_z"):
            batch_op.alter_column(name, existing_type=sa.Float(), nullable=False)
        batch_op.drop_index("ix_directory_profiles_search")
        batch_op.create_index("ix_directory_profiles_search", NEW_INDEX, unique=False)


def downgrade():
    with op.batch_alter_table("directory_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_profiles_search")
        batch_op.create_index("ix_directory_profiles_search", OLD_INDEX, unique=False)
        for name in ("unit_z", "unit_y", "unit_x"):
            batch_op.drop_column(name)
