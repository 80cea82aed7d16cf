"""slack: triage cards and relay threads per ticket, relayed messages

Revision ID: 0014_slack_triage
Revises: 0006_slack_inbox
Create Date: 2026-12-07 13:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_slack_triage'
down_revision = '0006_slack_inbox'
branch_labels = None
depends_on = '0003_tickets'  # the ticket table (another branch)


def upgrade() -> None:
    op.create_table(
        'slack_ticket_thread',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('card_channel', sa.String(length=32), nullable=True),
        sa.Column('card_ts', sa.String(length=32), nullable=True),
        sa.Column('shown_event_id', sa.Integer(), server_default='0', nullable=False),
        sa.Column('dm_channel', sa.String(length=32), nullable=True),
        sa.Column('dm_ts', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id'),
    )
    with op.batch_alter_table('slack_ticket_thread', schema=None) as batch_op:
        batch_op.create_index('ix_slack_ticket_thread_card', ['card_channel', 'card_ts'], unique=False)
        batch_op.create_index('ix_slack_ticket_thread_dm', ['dm_channel', 'dm_ts'], unique=False)
    op.create_table(
        'slack_relayed_message',
        sa.Column('source', sa.String(length=128), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('source'),
    )
    with op.batch_alter_table('slack_relayed_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_relayed_message_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slack_relayed_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_relayed_message_ticket_id'))
    op.drop_table('slack_relayed_message')
    with op.batch_alter_table('slack_ticket_thread', schema=None) as batch_op:
        batch_op.drop_index('ix_slack_ticket_thread_dm')
        batch_op.drop_index('ix_slack_ticket_thread_card')
    op.drop_table('slack_ticket_thread')
