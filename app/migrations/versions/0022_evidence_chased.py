"""An officer records chasing an absence's evidence (when and how) as a compliance event: the
event says how it was chased.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 18:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: Union[str, None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('compliance_event', sa.Column('how', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compliance_event') as batch:
        batch.drop_column('how')  # (a rebuild: only ever run on an empty test database)
