"""The Figures page counts a team's visits started in a month by an index, not by reading two years
of them (the board's index is by state and deadline).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 18:30:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0023'
down_revision: Union[str, None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_visit_team_started', 'visit', ['team_id', 'started_at'])


def downgrade() -> None:
    op.drop_index('ix_visit_team_started', table_name='visit')
