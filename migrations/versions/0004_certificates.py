"""Certificates: revocation, renewal, credentials (issue 6)

Revision ID: 0004_certificates
Revises: 0003_exam_delivery
"""
from alembic import op
import sqlalchemy as sa

import examsys.core.types

revision = '0004_certificates'
down_revision = '0003_exam_delivery'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signing_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=True),
    sa.Column('created_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kid')
    )
    op.create_table('certificate_holder_details',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('id_number_hash', sa.String(length=255), nullable=True),
    sa.Column('id_number_masked', sa.String(length=40), nullable=True),
    sa.Column('updated_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('certificate_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('certificate_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_event_certificate_id'), ['certificate_id'], unique=False)

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_name_en', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('id_number_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('id_number_masked', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('basis', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('renews_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('state_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('state_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.alter_column('attempt_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f('ix_certificate_expires_at'), ['expires_at'], unique=False)
        batch_op.create_foreign_key('fk_certificate_superseded_by', 'certificate', ['superseded_by_id'], ['id'])
        batch_op.create_foreign_key('fk_certificate_renews', 'certificate', ['renews_id'], ['id'])

    # Existing certificates: the history starts with their issue (and revocation, if any).
    op.execute("UPDATE certificate SET basis = 'exam', state = 'active'")
    op.execute("UPDATE certificate SET state = 'revoked', state_at = revoked_at, "
               "state_reason = revocation_reason WHERE revoked_at IS NOT NULL")
    op.execute("INSERT INTO certificate_event (certificate_id, at, kind) "
               "SELECT id, issued_at, 'issued' FROM certificate")
    op.execute("INSERT INTO certificate_event (certificate_id, at, kind, reason) "
               "SELECT id, revoked_at, 'revoked', revocation_reason FROM certificate "
               "WHERE revoked_at IS NOT NULL")

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('basis', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('state', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column('revocation_reason')
        batch_op.drop_column('revoked_at')


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revocation_reason', sa.String(length=500), nullable=True))
    op.execute("UPDATE certificate SET revoked_at = state_at, revocation_reason = state_reason "
               "WHERE state = 'revoked'")
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint('fk_certificate_renews', type_='foreignkey')
        batch_op.drop_constraint('fk_certificate_superseded_by', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_certificate_expires_at'))
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('state_reason')
        batch_op.drop_column('state_at')
        batch_op.drop_column('state')
        batch_op.drop_column('renews_id')
        batch_op.drop_column('basis')
        batch_op.drop_column('id_number_masked')
        batch_op.drop_column('id_number_hash')
        batch_op.drop_column('holder_name_en')
    # Certificates of a renewal by education have no attempt; they cannot survive a downgrade.

    with op.batch_alter_table('certificate_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_event_certificate_id'))

    op.drop_table('certificate_event')
    op.drop_table('certificate_holder_details')
    op.drop_table('signing_key')
