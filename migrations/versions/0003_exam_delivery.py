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
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('read_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)

    op.create_table('regrade',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('key_version_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['key_version_id'], ['question_version.id'], ),
    sa.ForeignKeyConstraint(['question_version_id'], ['question_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('filed_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('score_before', sa.Double(), nullable=True),
    sa.Column('score_after', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], ),
    sa.ForeignKeyConstraint(['candidate_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_attempt_id'), ['attempt_id'], unique=False)

    op.create_table('attempt_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('login_session_id', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attempt_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempt_event_attempt_id'), ['attempt_id'], unique=False)

    op.create_table('mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_item_id', sa.Integer(), nullable=False),
    sa.Column('marker_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Double(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', examsys.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attempt_item_id'], ['attempt_item.id'], ),
    sa.ForeignKeyConstraint(['marker_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mark_attempt_item_id'), ['attempt_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mark_marker_id'), ['marker_id'], unique=False)

    op.create_table('regrade_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('regrade_id', sa.Integer(), nullable=False),
    sa.Column('attempt_item_id', sa.Integer(), nullable=False),
    sa.Column('old_awarded', sa.Double(), nullable=True),
    sa.Column('new_awarded', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_item_id'], ['attempt_item.id'], ),
    sa.ForeignKeyConstraint(['regrade_id'], ['regrade.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('regrade_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regrade_change_attempt_item_id'), ['attempt_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_regrade_change_regrade_id'), ['regrade_id'], unique=False)

    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_session_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_ip', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_user_agent', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('current_position', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('invalidated_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invalidation_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('results_notified_at', examsys.core.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('attempt_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('marking', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('key_version_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_attempt_item_marking'), ['marking'], unique=False)
        batch_op.create_foreign_key('fk_attempt_item_key_version', 'question_version', ['key_version_id'], ['id'])

    with op.batch_alter_table('blueprint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequential', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('double_marking', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('marking_tolerance', sa.Double(), server_default='0', nullable=False))

    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_attempts', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retake_cooldown_hours', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('avoid_seen_items', sa.Boolean(), server_default='1', nullable=False))

    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_multiplier', sa.Double(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('opens_at_override', examsys.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closes_at_override', examsys.core.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('exam_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowed_networks', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('stagger_seconds', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('exam_session', schema=None) as batch_op:
        batch_op.drop_column('stagger_seconds')
        batch_op.drop_column('allowed_networks')

    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_column('closes_at_override')
        batch_op.drop_column('opens_at_override')
        batch_op.drop_column('time_multiplier')

    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.drop_column('avoid_seen_items')
        batch_op.drop_column('retake_cooldown_hours')
        batch_op.drop_column('max_attempts')

    with op.batch_alter_table('blueprint', schema=None) as batch_op:
        batch_op.drop_column('marking_tolerance')
        batch_op.drop_column('double_marking')
        batch_op.drop_column('sequential')

    with op.batch_alter_table('attempt_item', schema=None) as batch_op:
        batch_op.drop_constraint('fk_attempt_item_key_version', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_attempt_item_marking'))
        batch_op.drop_column('key_version_id')
        batch_op.drop_column('marking')
        batch_op.drop_column('flagged')

    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('results_notified_at')
        batch_op.drop_column('invalidation_reason')
        batch_op.drop_column('invalidated_at')
        batch_op.drop_column('current_position')
        batch_op.drop_column('last_user_agent')
        batch_op.drop_column('last_ip')
        batch_op.drop_column('device_session_id')

    with op.batch_alter_table('regrade_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regrade_change_regrade_id'))
        batch_op.drop_index(batch_op.f('ix_regrade_change_attempt_item_id'))

    op.drop_table('regrade_change')
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mark_marker_id'))
        batch_op.drop_index(batch_op.f('ix_mark_attempt_item_id'))

    op.drop_table('mark')
    with op.batch_alter_table('attempt_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempt_event_attempt_id'))

    op.drop_table('attempt_event')
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_attempt_id'))

    op.drop_table('appeal')
    op.drop_table('regrade')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))

    op.drop_table('notification')
