"""Performance: indexes for exam-day hot paths (issue 7)

Revision ID: 0005_performance
Revises: 0004_certificates

The reason for each index is next to its declaration in examsys/hot_path_indexes.py.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import examsys.core.types  # noqa: F401

revision = '0005_performance'
down_revision = '0004_certificates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_attempt_state_deadline', 'attempt', ['state', 'deadline'], unique=False)
    op.create_index('ix_question_topic_status', 'question', ['topic_id', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_question_topic_status', table_name='question')
    op.drop_index('ix_attempt_state_deadline', table_name='attempt')
