"""A team may make the Crisis button silent on the worker's screen.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:20:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('team', sa.Column('silent_crisis', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('team') as batch_op:
        batch_op.drop_column('silent_crisis')
