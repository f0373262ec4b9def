"""조합 (cooperative) firms: ``firms.members``, the SMEs a firm stands for (1 unless a 협동조합/협회).

Issue 9: toward a large partner's minimum and maximum a 조합 lead counts its members.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:35:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('firms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('members', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('firms', schema=None) as batch_op:
        batch_op.drop_column('members')
