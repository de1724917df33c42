"""Reports drafted from the record: the draft, its approved versions with their PDFs and the sign-off
history (both append-only).

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-01 14:33:51
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import app.models.types  # noqa: F401
from app.migrations.append_only import drop_append_only, make_append_only


revision: str = '0017'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sections', sa.JSON(), nullable=False),
    sa.Column('client_saved_ms', sa.Integer(), nullable=True),
    sa.Column('draft_saved_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_report_team_status', ['team_id', 'status'], unique=False)

    op.create_table('report_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_review_report_id'), ['report_id'], unique=False)
    make_append_only('report_review')

    op.create_table('report_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('sections', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=False),
    sa.Column('approved_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('pdf_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id', 'version')
    )
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_version_report_id'), ['report_id'], unique=False)
    make_append_only('report_version')



def downgrade() -> None:
    drop_append_only('report_version')
    drop_append_only('report_review')
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_version_report_id'))

    op.drop_table('report_version')
    with op.batch_alter_table('report_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_review_report_id'))

    op.drop_table('report_review')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_team_status')
        batch_op.drop_index(batch_op.f('ix_report_person_id'))

    op.drop_table('report')
