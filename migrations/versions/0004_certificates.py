"""Certificates: revocation, renewal, credentials (issue 6)

Revision ID: 0004_certificates
Revises: 0003_exam_delivery
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import examsys.core.types  # noqa: F401

revision = '0004_certificates'
down_revision = '0003_exam_delivery'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
