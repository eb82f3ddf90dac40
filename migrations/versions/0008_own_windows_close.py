"""When the last candidate's own window closes, kept on the exam session (issue 2)

Revision ID: 0008_own_windows_close
Revises: 0007_bank_generation

An after-close session showed its results once the session's window closed, while a
candidate with an own, later window (an accommodation) could still be sitting. The
release now waits for the last own window too; the session keeps when that is, so that
deciding stays free of a query per attempt. Filled here from the enrollments.
"""
import sqlalchemy as sa
from alembic import op

import examsys.core.types

revision = '0008_own_windows_close'
down_revision = '0007_bank_generation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('exam_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('own_windows_close_at',
                                      examsys.core.types.UTCDateTime(timezone=True),
                                      nullable=True))
    op.execute("UPDATE exam_session SET own_windows_close_at = (SELECT max(closes_at_override) "
               "FROM enrollment WHERE enrollment.session_id = exam_session.id)")


def downgrade():
    with op.batch_alter_table('exam_session', schema=None) as batch_op:
        batch_op.drop_column('own_windows_close_at')
