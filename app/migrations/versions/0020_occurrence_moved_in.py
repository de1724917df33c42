"""A window's look at its series finds the occurrences moved into it by an index, not by reading
every outcome the series ever had.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 15:40:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0020'
down_revision: Union[str, None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_appointment_occurrence_moved', 'appointment_occurrence', ['appointment_id', 'starts_local'])


def downgrade() -> None:
    op.drop_index('ix_appointment_occurrence_moved', table_name='appointment_occurrence')
