"""certificates: catalogue (seeded), certificates, suspensions, calendar overrides

Revision ID: 0006_certificates
Revises: 0004_questions
Create Date: 2026-11-23 11:00:00

"""
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import trainer.db

# revision identifiers, used by Alembic.
revision = '0006_certificates'
down_revision = '0004_questions'
branch_labels = None
depends_on = None


# Special operation types (SAWS Order No. 30, appendix catalogue), PM and SM. Every number is
# data: admins edit the catalogue; initial hours of special operations come from each type's
# national training outline and are left for admins to enter (None = no hours check).
SPECIAL_OPERATIONS = [
    ("1.1", "高压电工作业", "High-voltage electrical work"),
    ("1.2", "低压电工作业", "Low-voltage electrical work"),
    ("1.3", "防爆电气作业", "Explosion-proof electrical work"),
    ("2.1", "熔化焊接与热切割作业", "Fusion welding and thermal cutting"),
    ("2.2", "压力焊作业", "Pressure welding"),
    ("2.3", "钎焊作业", "Brazing and soldering"),
    ("3.1", "登高架设作业", "Scaffolding erection at height"),
    ("3.2", "高处安装、维护、拆除作业", "Installation, maintenance and dismantling at height"),
    ("4.1", "制冷与空调设备运行操作作业", "Refrigeration and air-conditioning operation"),
    ("4.2", "制冷与空调设备安装修理作业", "Refrigeration and air-conditioning installation and repair"),
    ("5.1", "煤矿井下电气作业", "Coal mine underground electrical work"),
    ("5.2", "煤矿井下爆破作业", "Coal mine underground blasting"),
    ("5.3", "煤矿安全监测监控作业", "Coal mine safety monitoring"),
    ("5.4", "煤矿瓦斯检查作业", "Coal mine gas inspection"),
    ("5.5", "煤矿安全检查作业", "Coal mine safety inspection"),
    ("5.6", "煤矿提升机操作作业", "Coal mine hoist operation"),
    ("5.7", "煤矿采煤机（掘进机）操作作业", "Coal mine shearer (roadheader) operation"),
    ("5.8", "煤矿瓦斯抽采作业", "Coal mine gas drainage"),
    ("5.9", "煤矿防突作业", "Coal mine outburst prevention"),
    ("5.10", "煤矿探放水作业", "Coal mine water exploration and drainage"),
    ("6.1", "金属非金属矿井通风作业", "Metal and non-metal mine ventilation"),
    ("6.2", "尾矿作业", "Tailings work"),
    ("6.3", "金属非金属矿山安全检查作业", "Metal and non-metal mine safety inspection"),
    ("6.4", "金属非金属矿山提升机操作作业", "Metal and non-metal mine hoist operation"),
    ("6.5", "金属非金属矿山支柱作业", "Metal and non-metal mine propping"),
    ("6.6", "金属非金属矿山井下电气作业", "Metal and non-metal mine underground electrical work"),
    ("6.7", "金属非金属矿山排水作业", "Metal and non-metal mine drainage"),
    ("6.8", "金属非金属矿山爆破作业", "Metal and non-metal mine blasting"),
    ("7.1", "司钻作业", "Drilling (driller)"),
    ("8.1", "煤气作业", "Coal gas work (metallurgy)"),
    ("9.1", "光气及光气化工艺作业", "Phosgene and phosgenation process"),
    ("9.2", "氯碱电解工艺作业", "Chlor-alkali electrolysis process"),
    ("9.3", "氯化工艺作业", "Chlorination process"),
    ("9.4", "硝化工艺作业", "Nitration process"),
    ("9.5", "合成氨工艺作业", "Ammonia synthesis process"),
    ("9.6", "裂解（裂化）工艺作业", "Cracking process"),
    ("9.7", "氟化工艺作业", "Fluorination process"),
    ("9.8", "加氢工艺作业", "Hydrogenation process"),
    ("9.9", "重氮化工艺作业", "Diazotization process"),
    ("9.10", "氧化工艺作业", "Oxidation process"),
    ("9.11", "过氧化工艺作业", "Peroxidation process"),
    ("9.12", "胺基化工艺作业", "Amination process"),
    ("9.13", "磺化工艺作业", "Sulfonation process"),
    ("9.14", "聚合工艺作业", "Polymerization process"),
    ("9.15", "烷基化工艺作业", "Alkylation process"),
    ("9.16", "化工自动化控制仪表作业", "Chemical process automation and instrumentation"),
    ("10.1", "烟火药制造作业", "Pyrotechnic composition manufacturing"),
    ("10.2", "黑火药制造作业", "Black powder manufacturing"),
    ("10.3", "引火线制造作业", "Fuse manufacturing"),
    ("10.4", "烟花爆竹产品涉药作业", "Fireworks work involving pyrotechnic compositions"),
    ("10.5", "烟花爆竹储存作业", "Fireworks storage"),
]


def catalogue_rows():
    rows = [
        dict(code=code, family="special_operation", name_zh=zh, name_en=en,
             validity_years=6, review_interval_years=3, renewal_window_days=60,
             initial_hours=None, review_hours=Decimal("8"), course_key=None, exam_key=None,
             active=True)
        for code, zh, en in SPECIAL_OPERATIONS
    ]
    rows.append(dict(code="PM", family="principal", name_zh="主要负责人",
                     name_en="Principal person in charge", validity_years=3,
                     review_interval_years=None, renewal_window_days=60,
                     initial_hours=Decimal("32"), review_hours=Decimal("12"),
                     course_key=None, exam_key=None, active=True))
    rows.append(dict(code="SM", family="safety_management", name_zh="安全生产管理人员",
                     name_en="Safety management personnel", validity_years=3,
                     review_interval_years=None, renewal_window_days=60,
                     initial_hours=Decimal("32"), review_hours=Decimal("12"),
                     course_key=None, exam_key=None, active=True))
    return rows


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
        batch_op.drop_index('ix_certificates_due_on')

    op.drop_table('certificates')
    op.drop_table('suspensions')
    op.drop_table('calendar_overrides')
    op.drop_table('certificate_types')
