"""The board finds a team's running visits by team and state, not by reading the team's every visit.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 12:00:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_visit_team_state', 'visit', ['team_id', 'state', 'due_at'])


def downgrade() -> None:
    op.drop_index('ix_visit_team_state', table_name='visit')
