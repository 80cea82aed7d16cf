"""slack: OAuth installations (tokens encrypted), one-time OAuth states, the installation of each user

Revision ID: 0015_slack_install
Revises: 0006_slack_inbox
Create Date: 2026-12-07 13:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_slack_install'
down_revision = '0006_slack_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``slack_installation``, ``slack_oauth_state`` and ``slack_installation_user``."""
    op.create_table('slack_installation',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('install_key', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('app_id', sa.String(length=32), nullable=True),
    sa.Column('enterprise_id', sa.String(length=32), nullable=True),
    sa.Column('enterprise_name', sa.String(length=200), nullable=True),
    sa.Column('enterprise_url', sa.String(length=500), nullable=True),
    sa.Column('team_id', sa.String(length=32), nullable=True),
    sa.Column('team_name', sa.String(length=200), nullable=True),
    sa.Column('is_enterprise_install', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('token_type', sa.String(length=16), nullable=True),
    sa.Column('bot_id', sa.String(length=32), nullable=True),
    sa.Column('bot_user_id', sa.String(length=32), nullable=True),
    sa.Column('bot_scopes', sa.Text(), nullable=True),
    sa.Column('bot_token_enc', sa.Text(), nullable=True),
    sa.Column('bot_refresh_token_enc', sa.Text(), nullable=True),
    sa.Column('bot_token_expires_at', sa.DateTime(), nullable=True),
    sa.Column('installer_user_id', sa.String(length=32), nullable=False),
    sa.Column('user_scopes', sa.Text(), nullable=True),
    sa.Column('user_token_enc', sa.Text(), nullable=True),
    sa.Column('user_refresh_token_enc', sa.Text(), nullable=True),
    sa.Column('user_token_expires_at', sa.DateTime(), nullable=True),
    sa.Column('installed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slack_installation'))
    )
    with op.batch_alter_table('slack_installation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_installation_install_key'), ['install_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_slack_installation_installed_at'), ['installed_at'], unique=False)
        batch_op.create_index('ix_slack_installation_key_user', ['install_key', 'installer_user_id'], unique=True)

    op.create_table('slack_oauth_state',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_slack_oauth_state'))
    )
    with op.batch_alter_table('slack_oauth_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_oauth_state_created_at'), ['created_at'], unique=False)

    op.create_table('slack_installation_user',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=True),
    sa.Column('team_id', sa.String(length=32), nullable=True),
    sa.Column('is_enterprise_install', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_slack_installation_user'))
    )


def downgrade() -> None:
    """Drop the three tables (installed workspaces must then be installed again)."""
    op.drop_table('slack_installation_user')
    with op.batch_alter_table('slack_oauth_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_oauth_state_created_at'))
    op.drop_table('slack_oauth_state')
    with op.batch_alter_table('slack_installation', schema=None) as batch_op:
        batch_op.drop_index('ix_slack_installation_key_user')
        batch_op.drop_index(batch_op.f('ix_slack_installation_installed_at'))
        batch_op.drop_index(batch_op.f('ix_slack_installation_install_key'))
    op.drop_table('slack_installation')
