"""named watchlists: tabs, each with its own order

- ``watchlists``: a name (unique whatever its case) and the tabs' order; the first is the default.
- ``watchlist_entries``: which symbols each list holds, in its order. ``symbols.active`` and
  ``symbols.position`` follow from them (app/market/watchlist.py): a symbol is watched while on a list.
- The watchlist an install has becomes the first list, "Watchlist", in its order.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watchlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_watchlists_name", "watchlists", [sa.literal_column("lower(name)")], unique=True)
    op.create_table(
        "watchlist_entries",
        sa.Column("watchlist_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(["symbol"], ["symbols.symbol"]),
        sa.ForeignKeyConstraint(["watchlist_id"], ["watchlists.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("watchlist_id", "symbol"),
    )
    op.execute("INSERT INTO watchlists (name, position) VALUES ('Watchlist', 0)")
    op.execute(
        """
        INSERT INTO watchlist_entries (watchlist_id, symbol, position)
        SELECT (SELECT id FROM watchlists), symbol, row_number() OVER (ORDER BY position, symbol) - 1
        FROM symbols WHERE active
        """
    )


def downgrade() -> None:
    op.drop_table("watchlist_entries")
    op.drop_index("uq_watchlists_name", table_name="watchlists")
    op.drop_table("watchlists")
