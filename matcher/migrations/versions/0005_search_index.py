"""The directory's stored search index (issue 11): one row per index, its pickled bytes in chunks;
an index on firms.updated_at for the data version.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_indexes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=300), nullable=False),
    sa.Column('format', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('firms', sa.Integer(), nullable=False),
    sa.Column('applications', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('fitted', sa.String(length=20), nullable=False),
    sa.Column('built_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('search_index_chunks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('index_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['index_id'], ['search_indexes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('search_index_chunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_index_chunks_index_id'), ['index_id'], unique=False)
    with op.batch_alter_table('firms', schema=None) as batch_op:  # the data version's max(updated_at)
        batch_op.create_index(batch_op.f('ix_firms_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('firms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firms_updated_at'))
    with op.batch_alter_table('search_index_chunks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_index_chunks_index_id'))
    op.drop_table('search_index_chunks')
    op.drop_table('search_indexes')
