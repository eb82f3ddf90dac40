"""An outbox of email to users, sent by `examsys send-mail` (issue 6)

Revision ID: 0009_outbound_email
Revises: 0008_own_windows_close

Results released, corrected or invalidated, appeals decided and certificates about to
expire were told in the app only. Each is now also queued as an email in the same
transaction (when EXAMSYS_SMTP_URL is set) and kept here as sent (see examsys.core.mail).
"""
import sqlalchemy as sa
from alembic import op

import examsys.core.types

revision = '0009_outbound_email'
down_revision = '0008_own_windows_close'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbound_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_try_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('sent_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_email_due', ['sent_at', 'next_try_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_email_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_email_user_id'))
        batch_op.drop_index('ix_outbound_email_due')

    op.drop_table('outbound_email')
