"""candles (1 minute, 1 hour) and raw ticks partitioned by UTC day

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

An existing ``ticks`` table is copied into the partitioned one (a partition for every day it
has, and today's and the next two), keeping ids and the id sequence. Candles for the copied
ticks are made by ``flask --app wsgi setup`` (it rebuilds them when it finds ticks without any
candle), not here, so the migration stays one copy long.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PRICE = sa.Numeric(24, 10)


def candle_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("symbol", sa.String(length=32), nullable=False),  # made from FK-checked ticks only
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", PRICE, nullable=False),
        sa.Column("high", PRICE, nullable=False),
        sa.Column("low", PRICE, nullable=False),
        sa.Column("close", PRICE, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "bucket"),
    )


def upgrade() -> None:
    candle_table("candles_1m")
    candle_table("candles_1h")
    op.execute("ALTER TABLE ticks RENAME TO ticks_unpartitioned")
    op.execute("ALTER TABLE ticks_unpartitioned RENAME CONSTRAINT ticks_pkey TO ticks_unpartitioned_pkey")
    op.execute(
        "ALTER TABLE ticks_unpartitioned RENAME CONSTRAINT uq_ticks_symbol_observed_source TO uq_ticks_unpartitioned"
    )
    op.execute("ALTER TABLE ticks_unpartitioned RENAME CONSTRAINT ticks_symbol_fkey TO ticks_unpartitioned_symbol_fkey")
    op.execute("ALTER SEQUENCE ticks_id_seq OWNED BY NONE")
    op.execute(
        """
        CREATE TABLE ticks (
            id BIGINT NOT NULL DEFAULT nextval('ticks_id_seq'),
            symbol VARCHAR(32) NOT NULL,
            price NUMERIC(24, 10) NOT NULL,
            observed_at TIMESTAMP WITH TIME ZONE NOT NULL,
            received_at TIMESTAMP WITH TIME ZONE NOT NULL,
            source VARCHAR(16) NOT NULL,
            CONSTRAINT ticks_pkey PRIMARY KEY (id, observed_at),
            CONSTRAINT uq_ticks_symbol_observed_source UNIQUE (symbol, observed_at, source),
            CONSTRAINT ticks_symbol_fkey FOREIGN KEY (symbol) REFERENCES symbols (symbol)
        ) PARTITION BY RANGE (observed_at)
        """
    )
    op.execute("ALTER SEQUENCE ticks_id_seq OWNED BY ticks.id")
    op.execute(
        """
        DO $$
        DECLARE day date;
        BEGIN
            FOR day IN
                SELECT DISTINCT (observed_at AT TIME ZONE 'UTC')::date FROM ticks_unpartitioned
                UNION SELECT (now() AT TIME ZONE 'UTC')::date + n FROM generate_series(0, 2) AS n
            LOOP
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF ticks FOR VALUES FROM (%L) TO (%L)',
                    'ticks_p' || to_char(day, 'YYYYMMDD'),
                    (day::timestamp AT TIME ZONE 'UTC'), ((day + 1)::timestamp AT TIME ZONE 'UTC'));
            END LOOP;
        END $$
        """
    )
    op.execute(
        "INSERT INTO ticks (id, symbol, price, observed_at, received_at, source) "
        "SELECT id, symbol, price, observed_at, received_at, source FROM ticks_unpartitioned"
    )
    op.execute("DROP TABLE ticks_unpartitioned")


def downgrade() -> None:
    op.execute("ALTER TABLE ticks RENAME TO ticks_partitioned")
    op.execute("ALTER TABLE ticks_partitioned RENAME CONSTRAINT ticks_pkey TO ticks_partitioned_pkey")
    op.execute(
        "ALTER TABLE ticks_partitioned RENAME CONSTRAINT uq_ticks_symbol_observed_source TO uq_ticks_partitioned"
    )
    op.execute("ALTER TABLE ticks_partitioned RENAME CONSTRAINT ticks_symbol_fkey TO ticks_partitioned_symbol_fkey")
    op.execute("ALTER SEQUENCE ticks_id_seq OWNED BY NONE")
    op.execute(
        """
        CREATE TABLE ticks (
            id BIGINT NOT NULL DEFAULT nextval('ticks_id_seq') PRIMARY KEY,
            symbol VARCHAR(32) NOT NULL REFERENCES symbols (symbol),
            price NUMERIC(24, 10) NOT NULL,
            observed_at TIMESTAMP WITH TIME ZONE NOT NULL,
            received_at TIMESTAMP WITH TIME ZONE NOT NULL,
            source VARCHAR(16) NOT NULL,
            CONSTRAINT uq_ticks_symbol_observed_source UNIQUE (symbol, observed_at, source)
        )
        """
    )
    op.execute("ALTER SEQUENCE ticks_id_seq OWNED BY ticks.id")
    op.execute("INSERT INTO ticks SELECT id, symbol, price, observed_at, received_at, source FROM ticks_partitioned")
    op.execute("DROP TABLE ticks_partitioned")
    op.drop_table("candles_1h")
    op.drop_table("candles_1m")
