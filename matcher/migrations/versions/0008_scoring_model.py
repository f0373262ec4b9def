"""Learned scoring (issue 18): which model a run was scored by, and the staff's choices of model.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 01:55:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('model_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('chosen_by', sa.String(length=100), nullable=False),
    sa.Column('chosen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model', sa.String(length=40), nullable=False, server_default='hand'))


def downgrade():
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_column('model')
    op.drop_table('model_choices')
