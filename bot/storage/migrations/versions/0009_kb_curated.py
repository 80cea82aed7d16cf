"""knowledge base: trainers' curated answers

Revision ID: 0009_kb_curated
Revises: 0002_kb
Create Date: 2026-12-02 00:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_kb_curated'
down_revision = '0002_kb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create kb_curated."""
    op.create_table('kb_curated',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('article_id', sa.String(length=300), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('undone_by', sa.String(length=200), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_curated'))
    )
    op.create_index(op.f('ix_kb_curated_undone_at'), 'kb_curated', ['undone_at'], unique=False)


def downgrade() -> None:
    """Drop kb_curated."""
    op.drop_index(op.f('ix_kb_curated_undone_at'), table_name='kb_curated')
    op.drop_table('kb_curated')
