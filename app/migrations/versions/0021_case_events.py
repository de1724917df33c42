"""A case's closes and reopens, each with who, when and why (append-only).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 18:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = '0021'
down_revision: Union[str, None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'case_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('at', app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=True),
        sa.Column('note', sa.String(length=1000), nullable=True),
        sa.Column('cancelled_appointments', sa.Integer(), nullable=False, server_default='0'),
        sa.ForeignKeyConstraint(['by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_event_person_id', 'case_event', ['person_id'])


def downgrade() -> None:
    op.drop_index('ix_case_event_person_id', table_name='case_event')
    op.drop_table('case_event')
