"""panel security: admins.session_version, api_tokens

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import core.timeutil

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("admins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum("owner", "finance", "mentor", name="api_token_role", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["admin_id"], ["admins.id"], name=op.f("fk_api_tokens_admin_id_admins"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_admin_id"), ["admin_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_admin_id"))
    op.drop_table("api_tokens")
    with op.batch_alter_table("admins", schema=None) as batch_op:
        batch_op.drop_column("session_version")
