"""knowledge base: trainers' unpublished drafts (the console's working copies)

Revision ID: 0011_kb_drafts
Revises: 0009_kb_curated
Create Date: 2026-12-07 13:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_kb_drafts'
down_revision = '0009_kb_curated'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create kb_draft."""
    op.create_table('kb_draft',
    sa.Column('article_id', sa.String(length=300), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('raw_text', sa.Text(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_kb_draft'))
    )


def downgrade() -> None:
    """Drop kb_draft."""
    op.drop_table('kb_draft')
