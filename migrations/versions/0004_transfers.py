"""transfers (Vodafone Cash transfers received) and the top-up columns that match them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00

`transfers.reference` (the Vodafone Cash transaction number) is unique forever; `transfers.transaction_id`
is unique, so one transfer settles at most one top-up. Top-ups get `wallet_hash` (a keyed hash of the
sender number, for matching without the plain number) and `transfer_reference` (the number the student
typed, optional). Existing top-ups keep NULL hashes: they are matched by hand as before.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import core.money
import core.timeutil

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wallet_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("transfer_reference", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_transactions_wallet_hash"), ["wallet_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_transactions_transfer_reference"), ["transfer_reference"], unique=False)
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("amount", core.money.Money(), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=True),
        sa.Column("sender_number", sa.Text(), nullable=True),
        sa.Column("sender_masked", sa.String(length=20), nullable=True),
        sa.Column("sender_name", sa.String(length=120), nullable=True),
        sa.Column("wallet_balance", core.money.Money(), nullable=True),
        sa.Column("received_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("matched_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("matched_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transfers_amount_positive")),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_transfers_transaction_id_transactions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("reference", name=op.f("uq_transfers_reference")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_transfers_transaction_id")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index("ix_transfers_sender_received", ["sender_hash", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfers_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfers_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("transfers")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transactions_transfer_reference"))
        batch_op.drop_index(batch_op.f("ix_transactions_wallet_hash"))
        batch_op.drop_column("transfer_reference")
        batch_op.drop_column("wallet_hash")
