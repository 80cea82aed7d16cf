"""slack: the processed-event table becomes the durable inbox (state, job, lease, attempts)

Revision ID: 0006_slack_inbox
Revises: 0005_slack
Create Date: 2026-12-01 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_slack_inbox'
down_revision = '0005_slack'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_processed_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='done', nullable=False))
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('job', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_slack_processed_event_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slack_processed_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_processed_event_state'))
        batch_op.drop_column('attempts')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('job')
        batch_op.drop_column('kind')
        batch_op.drop_column('state')
