"""Outcome measure responses and the organisation's instrument licences (both append-only), and
teams' own 0-10 scales.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import app.models.types  # noqa: F401
from app.migrations.append_only import drop_append_only, make_append_only


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('measure_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('instrument', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('instrument_version', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=True),
    sa.Column('band', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('declined_reason', sa.Text(), nullable=True),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asked_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['measure_response.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('measure_response', schema=None) as batch_op:
        batch_op.create_index('ix_measure_response_person_taken', ['person_id', 'taken_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_measure_response_supersedes_id'), ['supersedes_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measure_response_team_id'), ['team_id'], unique=False)
    make_append_only('measure_response')

    op.create_table('organisation_licence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('licence', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('organisation_licence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_licence_licence'), ['licence'], unique=False)
    make_append_only('organisation_licence')

    op.create_table('team_scale',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('question', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('low_label', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('high_label', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('higher_is_worse', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('team_scale', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_scale_team_id'), ['team_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('team_scale', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_scale_team_id'))
    op.drop_table('team_scale')
    drop_append_only('organisation_licence')
    with op.batch_alter_table('organisation_licence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_licence_licence'))
    op.drop_table('organisation_licence')
    drop_append_only('measure_response')
    with op.batch_alter_table('measure_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_response_team_id'))
        batch_op.drop_index(batch_op.f('ix_measure_response_supersedes_id'))
        batch_op.drop_index('ix_measure_response_person_taken')
    op.drop_table('measure_response')
