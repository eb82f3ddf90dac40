"""Question bank curation: types, workflow, review, media (issue 3)

Revision ID: 0002_bank_curation
Revises: 0001_initial
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import examsys.core.types  # noqa: F401

revision = '0002_bank_curation'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
