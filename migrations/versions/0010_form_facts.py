"""An attempt keeps its form's facts for the autosave, written once at its start (issue 7)

Revision ID: 0010_form_facts
Revises: 0009_outbound_email

At an exam's start every app worker reads the facts of every running attempt's items at
its first save there (exams.form_cache); built from the hundred items each time, that read
was the largest cost of an exam's first minute. PostgreSQL now writes them once, when the
attempt starts; attempts started before stay NULL and are read from their items.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_form_facts'
down_revision = '0009_outbound_email'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_facts', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('form_facts')
