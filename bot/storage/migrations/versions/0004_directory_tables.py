"""directory tables: audit log, one-time reset links, rate-limit counters

Revision ID: 0004_directory
Revises: 0001_core
Create Date: 2026-11-25 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_directory'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('directory_audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('account', sa.String(length=500), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('result', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_audit'))
    )
    with op.batch_alter_table('directory_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_audit_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_directory_audit_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_directory_audit_action_created', ['action', 'created_at'], unique=False)

    op.create_table('directory_reset_link',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_key', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('account_dn', sa.String(length=500), nullable=False),
    sa.Column('csrf_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=80), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_reset_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_directory_reset_link_token_hash'))
    )
    with op.batch_alter_table('directory_reset_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_reset_link_user_key'), ['user_key'], unique=False)

    op.create_table('directory_rate_counter',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_rate_counter')),
    sa.UniqueConstraint('key', 'window_start', name='uq_directory_rate_counter_key_window')
    )


def downgrade() -> None:
    op.drop_table('directory_rate_counter')
    with op.batch_alter_table('directory_reset_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_reset_link_user_key'))
    op.drop_table('directory_reset_link')
    with op.batch_alter_table('directory_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_directory_audit_action_created')
        batch_op.drop_index(batch_op.f('ix_directory_audit_created_at'))
        batch_op.drop_index(batch_op.f('ix_directory_audit_actor'))
    op.drop_table('directory_audit')
