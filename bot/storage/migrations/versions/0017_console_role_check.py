"""console: a live session's roles are re-checked (when last, and since when the directory failed)

Revision ID: 0017_console_role_check
Revises: 0010_console
Create Date: 2026-12-08 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_console_role_check'
down_revision = '0010_console'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``console_session.roles_checked_at`` and ``roles_failed_at`` (NULL: checked at sign-in, no failure)."""
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roles_checked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('roles_failed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.drop_column('roles_failed_at')
        batch_op.drop_column('roles_checked_at')
