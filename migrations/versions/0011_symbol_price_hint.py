"""symbols.price_hint: how many decimals the source quotes the symbol in (Yahoo's priceHint)

A stock is quoted in cents (2), a currency pair in 4 or 5 decimals; the page and the messages
show its prices so instead of by magnitude. Null: not known (crypto keeps decimals by magnitude).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("symbols", sa.Column("price_hint", sa.SmallInteger, nullable=True))


def downgrade() -> None:
    op.drop_column("symbols", "price_hint")
