"""Retention reaches plans, orders and allocations: their append-only tables (plan versions,
agreements, goal notes, compliance events, allocations) and sealed evidence packs let the retention
pass through, and only it; the plans it deletes are kept as anonymised rows (when open, when
closed, how each goal ended) so the outcome figures for past ranges stay right.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 18:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import app.models.types  # noqa: F401
from app.migrations.append_only import allow_retention, drop_append_only

revision: str = '0024'
down_revision: Union[str, None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Made append-only before retention_pass existed, so until now they refused the retention job too.
TABLES = ('plan_version', 'plan_agreement', 'goal_note', 'compliance_event', 'allocation')


def _seal_packs(*, unless_retained: bool) -> None:
    """A signed pack cannot change, and no pack can be removed, except (when `unless_retained`)
    by the retention pass."""
    if op.get_bind().dialect.name == "postgresql":
        passing = ("IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM retention_pass) THEN RETURN OLD; END IF; "
                   if unless_retained else "")
        op.execute(
            "CREATE OR REPLACE FUNCTION fieldline_signed_pack() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {passing}IF OLD.signed_at IS NOT NULL OR TG_OP = 'DELETE' THEN "
            "RAISE EXCEPTION 'a signed evidence pack cannot change'; END IF; "
            "RETURN NEW; END $$"
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS evidence_pack_sealed_delete")
        unless = " WHEN NOT EXISTS (SELECT 1 FROM retention_pass)" if unless_retained else ""
        op.execute(f"CREATE TRIGGER evidence_pack_sealed_delete BEFORE DELETE ON evidence_pack{unless} "
                   "BEGIN SELECT RAISE(ABORT, 'an evidence pack cannot be removed'); END")


def _refuse_everyone(table: str) -> None:
    drop_append_only(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION fieldline_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def upgrade() -> None:
    op.create_table('retained_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('goals_achieved', sa.Integer(), nullable=False),
    sa.Column('goals_partly', sa.Integer(), nullable=False),
    sa.Column('goals_not_achieved', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_retained_plan_team_id', 'retained_plan', ['team_id'])
    for table in TABLES:
        allow_retention(table)
    _seal_packs(unless_retained=True)


def downgrade() -> None:
    _seal_packs(unless_retained=False)
    for table in TABLES:
        _refuse_everyone(table)
    op.drop_index('ix_retained_plan_team_id', table_name='retained_plan')
    op.drop_table('retained_plan')
