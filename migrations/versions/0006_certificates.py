"""certificates: catalogue (seeded), certificates, suspensions, calendar overrides

Revision ID: 0006_certificates
Revises: 0005_courses
Create Date: 2026-11-23 11:00:00

"""
import sqlalchemy as sa
from alembic import op

import trainer.db
from trainer.certificates.catalogue import catalogue_rows

# revision identifiers, used by Alembic.
revision = '0006_certificates'
down_revision = '0005_courses'
branch_labels = None
depends_on = None


def upgrade():
    types = op.create_table('certificate_types',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('family', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=150), nullable=False),
    sa.Column('validity_years', sa.Integer(), nullable=False),
    sa.Column('review_interval_years', sa.Integer(), nullable=True),
    sa.Column('renewal_window_days', sa.Integer(), nullable=False),
    sa.Column('initial_hours', sa.Numeric(precision=6, scale=1), nullable=True),
    sa.Column('review_hours', sa.Numeric(precision=6, scale=1), nullable=True),
    sa.Column('course_key', sa.String(length=100), nullable=True),
    sa.Column('exam_key', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', trainer.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("family in ('special_operation', 'principal', 'safety_management')", name=op.f('ck_certificate_types_family')),
    sa.CheckConstraint('renewal_window_days >= 0', name=op.f('ck_certificate_types_renewal_window_days')),
    sa.CheckConstraint('review_interval_years is null or review_interval_years >= 1', name=op.f('ck_certificate_types_review_interval_years')),
    sa.CheckConstraint('validity_years >= 1', name=op.f('ck_certificate_types_validity_years')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_certificate_types'))
    )
    op.create_table('calendar_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('region_selector', sa.String(length=6), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', trainer.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('rest', 'working')", name=op.f('ck_calendar_overrides_kind')),
    sa.CheckConstraint('last_day >= first_day', name=op.f('ck_calendar_overrides_days_in_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_calendar_overrides_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_overrides'))
    )
    op.create_table('suspensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('lift_on', sa.Date(), nullable=True),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('types', sa.JSON(), nullable=False),
    sa.Column('effect', sa.String(length=20), nullable=False),
    sa.Column('holder_deadline', sa.String(length=10), nullable=True),
    sa.Column('exam_deadline', sa.String(length=10), nullable=True),
    sa.Column('extend_by', sa.String(length=10), nullable=True),
    sa.Column('extend_to', sa.Date(), nullable=True),
    sa.Column('source_url', sa.String(length=500), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', trainer.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', trainer.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("effect in ('deemed_valid', 'extend_by', 'extend_to')", name=op.f('ck_suspensions_effect')),
    sa.CheckConstraint('lift_on is null or lift_on >= start_on', name=op.f('ck_suspensions_lift_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_suspensions_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suspensions')),
    sa.UniqueConstraint('name', name=op.f('uq_suspensions_name'))
    )
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('holder_user_id', sa.Integer(), nullable=True),
    sa.Column('holder_name', sa.String(length=100), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('type_code', sa.String(length=10), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('review_due_on', sa.Date(), nullable=True),
    sa.Column('review_extended', sa.Boolean(), nullable=False),
    sa.Column('renewal_applied_on', sa.Date(), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', trainer.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('renewal_opens_on', sa.Date(), nullable=False),
    sa.Column('covered', sa.Boolean(), nullable=False),
    sa.Column('suspension_id', sa.Integer(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('holder_deadline', sa.Date(), nullable=True),
    sa.Column('exam_deadline', sa.Date(), nullable=True),
    sa.Column('awaiting_exam_since', sa.Date(), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.CheckConstraint("source in ('import', 'exam', 'admin', 'demo')", name=op.f('ck_certificates_source')),
    sa.CheckConstraint('expires_on >= issued_on', name=op.f('ck_certificates_expires_after_issue')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_certificates_employer_id_employers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['holder_user_id'], ['users.id'], name=op.f('fk_certificates_holder_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['replaces_id'], ['certificates.id'], name=op.f('fk_certificates_replaces_id_certificates'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suspension_id'], ['suspensions.id'], name=op.f('fk_certificates_suspension_id_suspensions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['type_code'], ['certificate_types.code'], name=op.f('fk_certificates_type_code_certificate_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('number', name=op.f('uq_certificates_number'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_due_on', ['due_on'], unique=False)
        batch_op.create_index('ix_certificates_covered_due_on', ['covered', 'due_on'], unique=False)
        batch_op.create_index('ix_certificates_employer_id_due_on', ['employer_id', 'due_on'], unique=False)
        batch_op.create_index('ix_certificates_expires_on', ['expires_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_holder_user_id'), ['holder_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_id_number'), ['id_number'], unique=False)
        batch_op.create_index('ix_certificates_region_code', ['region_code'], unique=False)
        batch_op.create_index('ix_certificates_renewal_opens_on', ['renewal_opens_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_replaces_id'), ['replaces_id'], unique=False)
        batch_op.create_index('ix_certificates_review_due_on', ['review_due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_suspension_id'), ['suspension_id'], unique=False)
        batch_op.create_index('ix_certificates_type_code_due_on', ['type_code', 'due_on'], unique=False)
        batch_op.create_index('ix_certificates_valid_until', ['valid_until'], unique=False)

    # The catalogue as it stood when this migration was written; admins edit it afterwards.
    op.bulk_insert(types, catalogue_rows())


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_valid_until')
        batch_op.drop_index('ix_certificates_type_code_due_on')
        batch_op.drop_index(batch_op.f('ix_certificates_suspension_id'))
        batch_op.drop_index('ix_certificates_review_due_on')
        batch_op.drop_index(batch_op.f('ix_certificates_replaces_id'))
        batch_op.drop_index('ix_certificates_renewal_opens_on')
        batch_op.drop_index('ix_certificates_region_code')
        batch_op.drop_index(batch_op.f('ix_certificates_id_number'))
        batch_op.drop_index(batch_op.f('ix_certificates_holder_user_id'))
        batch_op.drop_index('ix_certificates_expires_on')
        batch_op.drop_index('ix_certificates_employer_id_due_on')
        batch_op.drop_index('ix_certificates_covered_due_on')
        batch_op.drop_index('ix_certificates_due_on')

    op.drop_table('certificates')
    op.drop_table('suspensions')
    op.drop_table('calendar_overrides')
    op.drop_table('certificate_types')
