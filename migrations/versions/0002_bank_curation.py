"""Question bank curation: types, workflow, review, media (issue 3)

Revision ID: 0002_bank_curation
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa

import examsys.core.types

revision = '0002_bank_curation'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('question_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('question_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_comment_question_id'), ['question_id'], unique=False)
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_type'), ['type'], unique=False)
        batch_op.create_index(batch_op.f('ix_question_difficulty'), ['difficulty'], unique=False)


def downgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_difficulty'))
        batch_op.drop_index(batch_op.f('ix_question_type'))
    with op.batch_alter_table('question_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_comment_question_id'))
    op.drop_table('question_comment')
