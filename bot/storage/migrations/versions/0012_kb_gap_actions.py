"""knowledge base: what trainers did about gaps topics (curated, article, examples, dismissed)

Revision ID: 0012_kb_gap_actions
Revises: 0009_kb_curated
Create Date: 2026-12-07 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_kb_gap_actions'
down_revision = '0009_kb_curated'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create kb_gap_action."""
    op.create_table('kb_gap_action',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('question_keys', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('undone_by', sa.String(length=200), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_gap_action'))
    )
    op.create_index(op.f('ix_kb_gap_action_undone_at'), 'kb_gap_action', ['undone_at'], unique=False)


def downgrade() -> None:
    """Drop kb_gap_action."""
    op.drop_index(op.f('ix_kb_gap_action_undone_at'), table_name='kb_gap_action')
    op.drop_table('kb_gap_action')
