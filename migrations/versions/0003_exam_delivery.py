"""Exam delivery: integrity, accommodations, marking (issue 5)

Revision ID: 0003_exam_delivery
Revises: 0002_bank_curation
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import examsys.core.types  # noqa: F401

revision = '0003_exam_delivery'
down_revision = '0002_bank_curation'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
