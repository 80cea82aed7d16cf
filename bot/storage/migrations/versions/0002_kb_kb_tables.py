"""knowledge-base tables

Revision ID: 0002_kb
Revises: 0001_core
Create Date: 2026-11-25 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_kb'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kb_article',
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('review_by', sa.String(length=32), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article'))
    )
    op.create_table('kb_rating',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('article_id', sa.String(length=300), nullable=True),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('user_key', sa.String(length=200), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_rating'))
    )
    with op.batch_alter_table('kb_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_rating_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_rating_created_at'), ['created_at'], unique=False)

    op.create_table('kb_article_version',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('article_id', sa.String(length=300), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('raw_text', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_article.id'], name=op.f('fk_kb_article_version_article_id_kb_article')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_version')),
    sa.UniqueConstraint('article_id', 'version', name='uq_kb_article_version_article_version')
    )
    with op.batch_alter_table('kb_article_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_article_version_article_id'), ['article_id'], unique=False)

    op.create_table('kb_chunk',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('article_id', sa.String(length=300), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=500), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['kb_article.id'], name=op.f('fk_kb_chunk_article_id_kb_article')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_chunk'))
    )
    with op.batch_alter_table('kb_chunk', schema=None) as batch_op:
        batch_op.create_index('ix_kb_chunk_article_ordinal', ['article_id', 'ordinal'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kb_chunk', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_chunk_article_ordinal')
    op.drop_table('kb_chunk')
    with op.batch_alter_table('kb_article_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_article_version_article_id'))
    op.drop_table('kb_article_version')
    with op.batch_alter_table('kb_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_rating_created_at'))
        batch_op.drop_index(batch_op.f('ix_kb_rating_article_id'))
    op.drop_table('kb_rating')
    op.drop_table('kb_article')
