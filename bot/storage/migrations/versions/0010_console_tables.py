"""console: action log, sessions, login links, pending OIDC sign-ins

Revision ID: 0010_console
Revises: 0001_core
Create Date: 2026-12-07 13:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_console'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create console_action, console_session, console_login_link, console_oidc_state."""
    op.create_table('console_action',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by', sa.String(length=320), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_action'))
    )
    op.create_index('ix_console_action_action_created', 'console_action', ['action', 'created_at'], unique=False)
    op.create_index(op.f('ix_console_action_actor'), 'console_action', ['actor'], unique=False)
    op.create_index(op.f('ix_console_action_created_at'), 'console_action', ['created_at'], unique=False)
    op.create_table('console_session',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('via', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('flash', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_console_session_token_hash'))
    )
    op.create_index(op.f('ix_console_session_email'), 'console_session', ['email'], unique=False)
    op.create_table('console_login_link',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_login_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_console_login_link_token_hash'))
    )
    op.create_table('console_oidc_state',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('browser_hash', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('nonce', sa.String(length=100), nullable=False),
    sa.Column('code_verifier', sa.String(length=200), nullable=False),
    sa.Column('next_url', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_oidc_state')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_console_oidc_state_state_hash'))
    )
    op.create_index(op.f('ix_console_oidc_state_expires_at'), 'console_oidc_state', ['expires_at'], unique=False)


def downgrade() -> None:
    """Drop the console tables."""
    op.drop_index(op.f('ix_console_oidc_state_expires_at'), table_name='console_oidc_state')
    op.drop_table('console_oidc_state')
    op.drop_table('console_login_link')
    op.drop_index(op.f('ix_console_session_email'), table_name='console_session')
    op.drop_table('console_session')
    op.drop_index(op.f('ix_console_action_created_at'), table_name='console_action')
    op.drop_index(op.f('ix_console_action_actor'), table_name='console_action')
    op.drop_index('ix_console_action_action_created', table_name='console_action')
    op.drop_table('console_action')
