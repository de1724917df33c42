"""A visit may be to a person on the caseload (their risk flags go on the emergency card).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:35:35
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # ADD COLUMN with REFERENCES, not a batch table rebuild: alerts and the append-only
        # safety events point at visit rows, and rebuilding the table would have to drop them.
        op.execute("ALTER TABLE visit ADD COLUMN person_id INTEGER REFERENCES person (id)")
    else:
        op.add_column('visit', sa.Column('person_id', sa.Integer(), nullable=True))
        op.create_foreign_key('visit_person_id_fkey', 'visit', 'person', ['person_id'], ['id'])
    op.create_index('ix_visit_person_id', 'visit', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_visit_person_id', table_name='visit')
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint('visit_person_id_fkey', 'visit', type_='foreignkey')
    op.drop_column('visit', 'person_id')
