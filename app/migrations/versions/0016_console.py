"""The supervisor's console: the duty rota (weekly shifts and one-off changes) and the duty
supervisor each alert is with.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-01 14:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import app.models.types  # noqa: F401

revision: str = '0016'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('alert', sa.Column('duty_supervisor_id', sa.Integer(), nullable=True))
    op.create_table('rota_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts_minute', sa.Integer(), nullable=False),
    sa.Column('ends_minute', sa.Integer(), nullable=False),
    sa.Column('zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('removed_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['removed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['supervisor_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_rota_shift_team', 'rota_shift', ['team_id', 'removed_at'])
    op.create_table('rota_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('removed_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['removed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['supervisor_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_rota_change_team_ends', 'rota_change', ['team_id', 'ends_at'])


def downgrade() -> None:
    op.drop_index('ix_rota_change_team_ends', table_name='rota_change')
    op.drop_table('rota_change')
    op.drop_index('ix_rota_shift_team', table_name='rota_shift')
    op.drop_table('rota_shift')
    with op.batch_alter_table('alert') as batch_op:
        batch_op.drop_column('duty_supervisor_id')
