"""certificates backlog: exam sessions, backlog bookings, reminder outbox

Revision ID: 0007_certificates_backlog
Revises: 0006_certificates
Create Date: 2026-11-23 11:10:00

"""
import sqlalchemy as sa
from alembic import op

import trainer.db

# revision identifiers, used by Alembic.
revision = '0007_certificates_backlog'
down_revision = '0006_certificates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exam_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('type_codes', sa.JSON(), nullable=False),
    sa.Column('region_selector', sa.String(length=6), nullable=False),
    sa.Column('notes', sa.String(length=300), nullable=False),
    sa.Column('created_at', trainer.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_exam_sessions_capacity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_sessions'))
    )
    with op.batch_alter_table('exam_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_sessions_day'), ['day'], unique=False)

    op.create_table('backlog_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=True),
    sa.Column('result_on', sa.Date(), nullable=True),
    sa.Column('created_at', trainer.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', trainer.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state <> 'booked' or session_id is not null", name=op.f('ck_backlog_bookings_booked_session')),
    sa.CheckConstraint("state in ('applied', 'booked', 'passed', 'failed')", name=op.f('ck_backlog_bookings_state')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_backlog_bookings_certificate_id_certificates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['exam_sessions.id'], name=op.f('fk_backlog_bookings_session_id_exam_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backlog_bookings')),
    sa.UniqueConstraint('certificate_id', name=op.f('uq_backlog_bookings_certificate_id'))
    )
    with op.batch_alter_table('backlog_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backlog_bookings_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backlog_bookings_state'), ['state'], unique=False)

    op.create_table('reminder_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', trainer.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', trainer.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.CheckConstraint("channel in ('email', 'sms')", name=op.f('ck_reminder_outbox_channel')),
    sa.CheckConstraint("kind in ('due', 'holder_deadline', 'exam_deadline')", name=op.f('ck_reminder_outbox_kind')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_reminder_outbox_certificate_id_certificates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_reminder_outbox_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_outbox')),
    sa.UniqueConstraint('certificate_id', 'kind', 'due_on', 'stage', 'recipient_id', 'channel', name='uq_reminder_outbox_once')
    )
    with op.batch_alter_table('reminder_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_outbox_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_outbox_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_outbox_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_holder_deadline', ['holder_deadline'], unique=False)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_holder_deadline')

    with op.batch_alter_table('reminder_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_outbox_sent_at'))
        batch_op.drop_index(batch_op.f('ix_reminder_outbox_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_outbox_certificate_id'))

    op.drop_table('reminder_outbox')
    with op.batch_alter_table('backlog_bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backlog_bookings_state'))
        batch_op.drop_index(batch_op.f('ix_backlog_bookings_session_id'))

    op.drop_table('backlog_bookings')
    with op.batch_alter_table('exam_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_sessions_day'))

    op.drop_table('exam_sessions')
