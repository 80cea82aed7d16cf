"""slack: assistant-panel threads (their context and title) and ticket offers made by emoji reaction

Revision ID: 0013_slack_assistant
Revises: 0006_slack_inbox
Create Date: 2026-12-07 13:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_slack_assistant'
down_revision = '0006_slack_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_assistant_thread',
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('context', sa.JSON(), nullable=True),
    sa.Column('titled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel_id', 'thread_ts', name=op.f('pk_slack_assistant_thread'))
    )
    with op.batch_alter_table('slack_assistant_thread', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_assistant_thread_updated_at'), ['updated_at'], unique=False)

    op.create_table('slack_ticket_offer',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('message_ts', sa.String(length=32), nullable=False),
    sa.Column('author', sa.String(length=32), nullable=False),
    sa.Column('reactor', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('permalink', sa.String(length=500), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('ticket_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slack_ticket_offer')),
    sa.UniqueConstraint('channel_id', 'message_ts', name='uq_slack_ticket_offer_message')
    )


def downgrade() -> None:
    op.drop_table('slack_ticket_offer')
    with op.batch_alter_table('slack_assistant_thread', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_assistant_thread_updated_at'))
    op.drop_table('slack_assistant_thread')
