"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wb_teams',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_wb_teams_name'))
    )
    op.create_table('wb_users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_users')),
    sa.UniqueConstraint('name', name=op.f('uq_wb_users_name'))
    )
    op.create_table('wb_api_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('last_used_at', sa.BigInteger(), nullable=True),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['wb_users.id'], name=op.f('fk_wb_api_tokens_user_id_wb_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_wb_api_tokens_token_hash'))
    )
    with op.batch_alter_table('wb_api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wb_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('wb_datasets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('num_rows', sa.BigInteger(), nullable=False),
    sa.Column('num_columns', sa.Integer(), nullable=False),
    sa.Column('schema_json', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['wb_users.id'], name=op.f('fk_wb_datasets_owner_id_wb_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_datasets')),
    sa.UniqueConstraint('owner_id', 'name', 'digest', name=op.f('uq_wb_datasets_owner_id_name_digest'))
    )
    op.create_table('wb_experiments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['wb_users.id'], name=op.f('fk_wb_experiments_owner_id_wb_users')),
    sa.ForeignKeyConstraint(['team_id'], ['wb_teams.id'], name=op.f('fk_wb_experiments_team_id_wb_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_experiments')),
    sa.UniqueConstraint('owner_id', 'name', name=op.f('uq_wb_experiments_owner_id_name'))
    )
    with op.batch_alter_table('wb_experiments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wb_experiments_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wb_experiments_team_id'), ['team_id'], unique=False)

    op.create_table('wb_team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['wb_teams.id'], name=op.f('fk_wb_team_members_team_id_wb_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['wb_users.id'], name=op.f('fk_wb_team_members_user_id_wb_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_wb_team_members'))
    )
    op.create_table('wb_experiment_keys',
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['wb_experiments.id'], name=op.f('fk_wb_experiment_keys_experiment_id_wb_experiments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('experiment_id', 'kind', 'key', name=op.f('pk_wb_experiment_keys'))
    )
    op.create_table('wb_runs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_time', sa.BigInteger(), nullable=False),
    sa.Column('end_time', sa.BigInteger(), nullable=True),
    sa.Column('heartbeat_at', sa.BigInteger(), nullable=True),
    sa.Column('kernel_id', sa.String(length=64), nullable=True),
    sa.Column('notebook_path', sa.Text(), nullable=True),
    sa.Column('git_commit', sa.String(length=64), nullable=True),
    sa.Column('python_version', sa.String(length=32), nullable=True),
    sa.Column('packages', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['experiment_id'], ['wb_experiments.id'], name=op.f('fk_wb_runs_experiment_id_wb_experiments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['wb_users.id'], name=op.f('fk_wb_runs_owner_id_wb_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_runs'))
    )
    with op.batch_alter_table('wb_runs', schema=None) as batch_op:
        batch_op.create_index('ix_wb_runs_experiment_start', ['experiment_id', 'start_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_wb_runs_kernel_id'), ['kernel_id'], unique=False)
        batch_op.create_index('ix_wb_runs_status_heartbeat', ['status', 'heartbeat_at'], unique=False)

    op.create_table('wb_artifacts',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['wb_runs.id'], name=op.f('fk_wb_artifacts_run_id_wb_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'path', name=op.f('pk_wb_artifacts'))
    )
    op.create_table('wb_latest_metrics',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('step', sa.BigInteger(), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['wb_runs.id'], name=op.f('fk_wb_latest_metrics_run_id_wb_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'key', name=op.f('pk_wb_latest_metrics'))
    )
    with op.batch_alter_table('wb_latest_metrics', schema=None) as batch_op:
        batch_op.create_index('ix_wb_latest_metrics_exp_key_value', ['experiment_id', 'key', 'value'], unique=False)

    op.create_table('wb_metrics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('step', sa.BigInteger(), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['wb_runs.id'], name=op.f('fk_wb_metrics_run_id_wb_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wb_metrics'))
    )
    with op.batch_alter_table('wb_metrics', schema=None) as batch_op:
        batch_op.create_index('ix_wb_metrics_run_key_step', ['run_id', 'key', 'step'], unique=False)

    op.create_table('wb_params',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.String(length=6000), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['wb_runs.id'], name=op.f('fk_wb_params_run_id_wb_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'key', name=op.f('pk_wb_params'))
    )
    with op.batch_alter_table('wb_params', schema=None) as batch_op:
        batch_op.create_index('ix_wb_params_exp_key_value', ['experiment_id', 'key', 'value'], unique=False)

    op.create_table('wb_run_datasets',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['wb_datasets.id'], name=op.f('fk_wb_run_datasets_dataset_id_wb_datasets')),
    sa.ForeignKeyConstraint(['run_id'], ['wb_runs.id'], name=op.f('fk_wb_run_datasets_run_id_wb_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'dataset_id', 'context', name=op.f('pk_wb_run_datasets'))
    )
    op.create_table('wb_tags',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.String(length=8000), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['wb_runs.id'], name=op.f('fk_wb_tags_run_id_wb_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'key', name=op.f('pk_wb_tags'))
    )
    with op.batch_alter_table('wb_tags', schema=None) as batch_op:
        batch_op.create_index('ix_wb_tags_exp_key_value', ['experiment_id', 'key', 'value'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('wb_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_wb_tags_exp_key_value')

    op.drop_table('wb_tags')
    op.drop_table('wb_run_datasets')
    with op.batch_alter_table('wb_params', schema=None) as batch_op:
        batch_op.drop_index('ix_wb_params_exp_key_value')

    op.drop_table('wb_params')
    with op.batch_alter_table('wb_metrics', schema=None) as batch_op:
        batch_op.drop_index('ix_wb_metrics_run_key_step')

    op.drop_table('wb_metrics')
    with op.batch_alter_table('wb_latest_metrics', schema=None) as batch_op:
        batch_op.drop_index('ix_wb_latest_metrics_exp_key_value')

    op.drop_table('wb_latest_metrics')
    op.drop_table('wb_artifacts')
    with op.batch_alter_table('wb_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_wb_runs_status_heartbeat')
        batch_op.drop_index(batch_op.f('ix_wb_runs_kernel_id'))
        batch_op.drop_index('ix_wb_runs_experiment_start')

    op.drop_table('wb_runs')
    op.drop_table('wb_experiment_keys')
    op.drop_table('wb_team_members')
    with op.batch_alter_table('wb_experiments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wb_experiments_team_id'))
        batch_op.drop_index(batch_op.f('ix_wb_experiments_owner_id'))

    op.drop_table('wb_experiments')
    op.drop_table('wb_datasets')
    with op.batch_alter_table('wb_api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wb_api_tokens_user_id'))

    op.drop_table('wb_api_tokens')
    op.drop_table('wb_users')
    op.drop_table('wb_teams')
