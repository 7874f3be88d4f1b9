"""directory: each profile's latitude band; the search seeks band by band, then longitude

Revision ID: 0019_directory_bands
Revises: 0018_mail_reply_to
Create Date: 2026-12-02 08:00:00

"""

import math

import sqlalchemy as sa
from alembic import op


revision = "0019_directory_bands"
down_revision = "0018_mail_reply_to"
branch_labels = None
depends_on = None

# campus.directory.geo.LAT_BAND_DEGREES as of this revision (a migration keeps its own copy).
LAT_BAND_DEGREES = 0.1
OLD_INDEX = [
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
NEW_INDEX = [
    "listed",
    "lat_band",
    "lon",
    "lat",
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
    sa.column("lat_band", sa.Integer),
)


def upgrade():
    with op.batch_alter_table("directory_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lat_band", sa.Integer(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(profiles.c.id, profiles.c.lat)).all()
    if rows:
        # Computed here as geo.lat_band does, not in SQL: floor() of a float division must
        # give the very band the application computes for the same latitude.
        bind.execute(
            profiles.update()
            .where(profiles.c.id == sa.bindparam("pid"))
            .values(lat_band=sa.bindparam("band")),
            [{"pid": pid, "band": math.floor(lat / LAT_BAND_DEGREES)} for pid, lat in rows],
        )
    with op.batch_alter_table("directory_profiles", schema=None) as batch_op:
        batch_op.alter_column("lat_band", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index("ix_directory_profiles_search")
        batch_op.create_index("ix_directory_profiles_search", NEW_INDEX, unique=False)


def downgrade():
    with op.batch_alter_table("directory_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_profiles_search")
        batch_op.create_index("ix_directory_profiles_search", OLD_INDEX, unique=False)
        batch_op.drop_column("lat_band")
