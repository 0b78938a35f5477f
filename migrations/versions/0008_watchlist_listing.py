"""watchlist: what the price source says each symbol is (name, currency, exchange, quote type)

The symbols table already is the list of tracked symbols (active = on the watchlist, position =
its order); an existing install keeps its rows as its watchlist. These columns are filled when a
symbol is added (checked against the source) and, for rows from before, by `flask setup`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = (("name", 200), ("currency", 16), ("exchange", 64), ("quote_type", 32))


def upgrade() -> None:
    for column, length in COLUMNS:
        op.add_column("symbols", sa.Column(column, sa.String(length), nullable=True))


def downgrade() -> None:
    for column, _ in reversed(COLUMNS):
        op.drop_column("symbols", column)
