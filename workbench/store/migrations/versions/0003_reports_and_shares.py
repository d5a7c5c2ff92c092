"""saved reports, share links and their views

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'wb_reports',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('run_ids', sa.Text(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['wb_users.id'], name=op.f('fk_wb_reports_owner_id_wb_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_reports')),
    )
    op.create_index(op.f('ix_wb_reports_owner_id'), 'wb_reports', ['owner_id'], unique=False)
    op.create_table(
        'wb_share_links',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('report_id', sa.String(length=40), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.Column('revoked_at', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['wb_users.id'], name=op.f('fk_wb_share_links_owner_id_wb_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['report_id'], ['wb_reports.id'],
                                name=op.f('fk_wb_share_links_report_id_wb_reports'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_share_links')),
    )
    op.create_index(op.f('ix_wb_share_links_owner_id'), 'wb_share_links', ['owner_id'], unique=False)
    op.create_index(op.f('ix_wb_share_links_report_id'), 'wb_share_links', ['report_id'], unique=False)
    op.create_table(
        'wb_share_views',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('share_id', sa.String(length=40), nullable=False),
        sa.Column('viewed_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['share_id'], ['wb_share_links.id'],
                                name=op.f('fk_wb_share_views_share_id_wb_share_links'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_share_views')),
    )
    op.create_index(op.f('ix_wb_share_views_share_id'), 'wb_share_views', ['share_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_wb_share_views_share_id'), table_name='wb_share_views')
    op.drop_table('wb_share_views')
    op.drop_index(op.f('ix_wb_share_links_report_id'), table_name='wb_share_links')
    op.drop_index(op.f('ix_wb_share_links_owner_id'), table_name='wb_share_links')
    op.drop_table('wb_share_links')
    op.drop_index(op.f('ix_wb_reports_owner_id'), table_name='wb_reports')
    op.drop_table('wb_reports')
