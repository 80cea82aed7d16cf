"""tickets: internal notes (IT-only comments)

Revision ID: 0007_tickets_notes
Revises: 0003_tickets
Create Date: 2026-12-01 23:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_tickets_notes'
down_revision = '0003_tickets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``ticket_comment.internal`` (false for every existing comment)."""
    with op.batch_alter_table('ticket_comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('internal', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Drop ``ticket_comment.internal``."""
    with op.batch_alter_table('ticket_comment', schema=None) as batch_op:
        batch_op.drop_column('internal')
