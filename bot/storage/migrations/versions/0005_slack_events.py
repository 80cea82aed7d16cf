"""slack: processed event ids and shareable replies

Revision ID: 0005_slack
Revises: 0001_core
Create Date: 2026-11-25 19:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_slack'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_processed_event',
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_slack_processed_event'))
    )
    with op.batch_alter_table('slack_processed_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_processed_event_received_at'), ['received_at'], unique=False)

    op.create_table('slack_shared_reply',
    sa.Column('turn_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('reply', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('turn_id', name=op.f('pk_slack_shared_reply'))
    )
    with op.batch_alter_table('slack_shared_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_shared_reply_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slack_shared_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_shared_reply_created_at'))
    op.drop_table('slack_shared_reply')
    with op.batch_alter_table('slack_processed_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_processed_event_received_at'))
    op.drop_table('slack_processed_event')
