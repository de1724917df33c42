"""Accounts: two-factor sign-in (authenticator app, passkeys, recovery codes, remembered phones) and the
single-use links emailed for invitations and password resets.

Revision ID: 0019
Revises: 0013
Create Date: 2026-12-01 14:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

from app.models.types import UTCDateTime

revision: str = '0019'
down_revision: Union[str, None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch would copy and drop `team` and `user` on SQLite, which the
    # foreign keys of a database with data in it refuse.
    op.add_column('team', sa.Column('second_factor_for_all', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('user', sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column('user', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.add_column('user', sa.Column('second_factor_exempt', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_recovery_code_user_id', 'recovery_code', ['user_id'])
    op.create_table(
        'trusted_device',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('last_used_at', UTCDateTime(), nullable=True),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_trusted_device_user_id', 'trusted_device', ['user_id'])
    op.create_table(
        'passkey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sqlmodel.sql.sqltypes.AutoString(length=1400), nullable=False),
        sa.Column('public_key', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('sign_count', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_used_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credential_id'),
    )
    op.create_index('ix_passkey_user_id', 'passkey', ['user_id'])
    op.create_table(
        'account_token',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_account_token_user_id', 'account_token', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_account_token_user_id', table_name='account_token')
    op.drop_table('account_token')
    op.drop_index('ix_passkey_user_id', table_name='passkey')
    op.drop_table('passkey')
    op.drop_index('ix_trusted_device_user_id', table_name='trusted_device')
    op.drop_table('trusted_device')
    op.drop_index('ix_recovery_code_user_id', table_name='recovery_code')
    op.drop_table('recovery_code')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('second_factor_exempt')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('second_factor_for_all')
