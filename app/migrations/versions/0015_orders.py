"""orders

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-01 14:33:37.077115
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import app.models.types  # noqa: F401
from app.migrations.append_only import drop_append_only, make_append_only


revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('compliance_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('family', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('warnings_before_breach', sa.Integer(), nullable=False),
    sa.Column('window_months', sa.Integer(), nullable=False),
    sa.Column('decision_working_days', sa.Integer(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('set_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('compliance_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_policy_team_id'), ['team_id'], unique=False)

    op.create_table('person_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('made_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('expected_end_on', sa.Date(), nullable=True),
    sa.Column('responsible_officer_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['responsible_officer_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('person_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_order_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_order_team_id'), ['team_id'], unique=False)

    op.create_table('evidence_pack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('contact_ids', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=False),
    sa.Column('made_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['made_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['person_order.id'], ),
    sa.ForeignKeyConstraint(['signed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'version')
    )
    with op.batch_alter_table('evidence_pack', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_pack_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_pack_team_id'), ['team_id'], unique=False)

    op.create_table('requirement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('target', sa.Integer(), nullable=True),
    sa.Column('named_others', sa.Text(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['person_order.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('requirement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_order_id'), ['order_id'], unique=False)

    op.create_table('compliance_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('occurred_local', sa.DateTime(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('absence_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('evidence_due_on', sa.Date(), nullable=True),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('responds_to_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('letter', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['person_order.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirement.id'], ),
    sa.ForeignKeyConstraint(['responds_to_id'], ['compliance_event.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('compliance_event', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_event_order', ['order_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_event_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_event_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_event_team_id'), ['team_id'], unique=False)

    op.create_table('enforceable_appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.Integer(), nullable=True),
    sa.Column('told_how', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('told_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['person_order.id'], ),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirement.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appointment_id')
    )
    with op.batch_alter_table('enforceable_appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforceable_appointment_order_id'), ['order_id'], unique=False)

    op.create_table('requirement_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirement.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('requirement_id', 'person_id')
    )
    with op.batch_alter_table('requirement_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_person_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_person_requirement_id'), ['requirement_id'], unique=False)

    make_append_only('compliance_event')
    make_append_only('compliance_policy')
    _seal_signed_packs()


def _seal_signed_packs() -> None:
    """A signed pack's row can be neither changed nor removed (a draft can be signed, once)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION fieldline_signed_pack() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF OLD.signed_at IS NOT NULL OR TG_OP = 'DELETE' THEN "
            "RAISE EXCEPTION 'a signed evidence pack cannot change'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
        )
        op.execute("CREATE TRIGGER evidence_pack_sealed BEFORE UPDATE OR DELETE ON evidence_pack "
                   "FOR EACH ROW EXECUTE FUNCTION fieldline_signed_pack()")
    else:
        op.execute("CREATE TRIGGER evidence_pack_sealed_update BEFORE UPDATE ON evidence_pack "
                   "WHEN OLD.signed_at IS NOT NULL "
                   "BEGIN SELECT RAISE(ABORT, 'a signed evidence pack cannot change'); END")
        op.execute("CREATE TRIGGER evidence_pack_sealed_delete BEFORE DELETE ON evidence_pack "
                   "BEGIN SELECT RAISE(ABORT, 'an evidence pack cannot be removed'); END")


def _unseal_packs() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evidence_pack_sealed ON evidence_pack")
    else:
        op.execute("DROP TRIGGER IF EXISTS evidence_pack_sealed_update")
        op.execute("DROP TRIGGER IF EXISTS evidence_pack_sealed_delete")


def downgrade() -> None:
    _unseal_packs()
    drop_append_only('compliance_policy')
    drop_append_only('compliance_event')
    with op.batch_alter_table('requirement_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requirement_person_requirement_id'))
        batch_op.drop_index(batch_op.f('ix_requirement_person_person_id'))

    op.drop_table('requirement_person')
    with op.batch_alter_table('enforceable_appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforceable_appointment_order_id'))

    op.drop_table('enforceable_appointment')
    with op.batch_alter_table('compliance_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_event_team_id'))
        batch_op.drop_index(batch_op.f('ix_compliance_event_source'))
        batch_op.drop_index(batch_op.f('ix_compliance_event_person_id'))
        batch_op.drop_index('ix_compliance_event_order')

    op.drop_table('compliance_event')
    with op.batch_alter_table('requirement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requirement_order_id'))

    op.drop_table('requirement')
    with op.batch_alter_table('evidence_pack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_pack_team_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_pack_order_id'))

    op.drop_table('evidence_pack')
    with op.batch_alter_table('person_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_order_team_id'))
        batch_op.drop_index(batch_op.f('ix_person_order_person_id'))

    op.drop_table('person_order')
    with op.batch_alter_table('compliance_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_policy_team_id'))

    op.drop_table('compliance_policy')
