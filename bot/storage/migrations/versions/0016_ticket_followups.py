"""tickets: follow-ups done once (a reminder per waiting period, the answer to "Did this fix it?")

Revision ID: 0016_ticket_followups
Revises: 0007_tickets_notes
Create Date: 2026-12-07 13:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016_ticket_followups'
down_revision = '0007_tickets_notes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``ticket_followup`` (its unique key is the once-only claim)."""
    op.create_table('ticket_followup',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('occurrence', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_followup_ticket_id_ticket'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_followup')),
    sa.UniqueConstraint('ticket_id', 'kind', 'occurrence', name=op.f('uq_ticket_followup_once'))
    )
    with op.batch_alter_table('ticket_followup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_followup_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    """Drop ``ticket_followup``."""
    with op.batch_alter_table('ticket_followup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_followup_ticket_id'))
    op.drop_table('ticket_followup')
