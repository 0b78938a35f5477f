"""exchange sources and market hours: ticks.source holds "ccxt:<exchange>"; symbols.calendar

ticks.source grows from 16 to 32 characters (PostgreSQL widens a varchar without rewriting the
table). symbols.calendar names the symbol's trading calendar (XNYS, 24/7, ...); rows from before
get it from `flask setup`, from what is already stored or by asking the source once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("ticks", "source", type_=sa.String(32), existing_type=sa.String(16), existing_nullable=False)
    op.add_column("symbols", sa.Column("calendar", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("symbols", "calendar")
    op.alter_column("ticks", "source", type_=sa.String(16), existing_type=sa.String(32), existing_nullable=False)
