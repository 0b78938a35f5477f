"""symbols' alert lookups kept by the database: a statement trigger on alerts recomputes them for
the symbols whose alerts a statement wrote (any writer: the API, the check, a bulk insert, psql),
through one function (set_symbol_lookups) that takes the rows' locks in name order first

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

ACTIVE = "FROM alerts a WHERE a.symbol = s.symbol AND a.status = 'active'"

# What the alert check reads of a symbol's active alerts: the windows of its change alerts, the
# levels of its indicators, its rules and the gate's bands (app/alerting/alerts.py, _GATE).
SET_SYMBOL_LOOKUPS = f"""
CREATE FUNCTION set_symbol_lookups(names text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- The rows' locks first, in name order (NO KEY UPDATE: an alert's foreign key takes KEY SHARE,
    -- which it lets be): two writers of the same symbols queue, never deadlock. The update is a
    -- statement of its own, so it reads the alerts of every transaction that held one.
    PERFORM 1 FROM symbols WHERE symbol = ANY(names) ORDER BY symbol FOR NO KEY UPDATE;
    UPDATE symbols s SET
        alert_windows = coalesce(
            (SELECT array_agg(DISTINCT a.window_seconds ORDER BY a.window_seconds) {ACTIVE} AND a.rule = 'change'),
            '{{}}'),
        indicator_levels = coalesce((
            SELECT jsonb_object_agg(k.key, jsonb_build_array(k.up, k.down)) FROM (
                SELECT a.timeframe || ':' || a.indicator || ':' || a.period AS key,
                       min(coalesce(a.level, 0)) FILTER (WHERE a.armed = (a.direction = 'above')) AS up,
                       max(coalesce(a.level, 0)) FILTER (WHERE a.armed <> (a.direction = 'above')) AS down
                {ACTIVE} AND a.rule IN ('cross', 'rsi') GROUP BY 1) k),
            '{{}}'),
        indicator_up = NULL, indicator_down = NULL, indicator_from = NULL, indicator_until = NULL,
        alert_rules = coalesce((SELECT array_agg(DISTINCT a.rule ORDER BY a.rule) {ACTIVE}), '{{}}'),
        fires_above = (SELECT min(a.threshold) {ACTIVE} AND a.rule = 'above' AND a.armed),
        fires_below = (SELECT max(a.threshold) {ACTIVE} AND a.rule = 'below' AND a.armed),
        rearms_below = (SELECT max(a.threshold) {ACTIVE} AND a.rule = 'above' AND NOT a.armed),
        rearms_above = (SELECT min(a.threshold) {ACTIVE} AND a.rule = 'below' AND NOT a.armed),
        fires_moved = (SELECT min(a.change_percent) {ACTIVE} AND a.rule = 'change' AND a.armed),
        rearms_change = EXISTS (SELECT 1 {ACTIVE} AND a.rule = 'change' AND NOT a.armed)
    WHERE s.symbol = ANY(names);
END $$
"""  # noqa: S608 - ACTIVE is a constant

ALERTS_WRITTEN = """
CREATE FUNCTION alerts_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    names text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT symbol) INTO names FROM new_rows WHERE symbol IS NOT NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(DISTINCT symbol) INTO names
        FROM (SELECT symbol FROM new_rows UNION SELECT symbol FROM old_rows) r WHERE symbol IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT symbol) INTO names FROM old_rows WHERE symbol IS NOT NULL;
    ELSE  -- TRUNCATE: every symbol that had any
        SELECT array_agg(symbol) INTO names FROM symbols WHERE alert_rules <> '{}' OR indicator_levels <> '{}';
    END IF;
    IF names IS NOT NULL THEN
        PERFORM set_symbol_lookups(names);
    END IF;
    RETURN NULL;
END $$
"""

TRIGGERS = {
    "alerts_inserted": "AFTER INSERT ON alerts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "alerts_updated": (
        "AFTER UPDATE ON alerts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
    ),
    "alerts_deleted": "AFTER DELETE ON alerts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "alerts_truncated": "AFTER TRUNCATE ON alerts FOR EACH STATEMENT",
}


def upgrade() -> None:
    op.execute(SET_SYMBOL_LOOKUPS)
    op.execute(ALERTS_WRITTEN)
    for name, when in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION alerts_written()")
    op.execute("SELECT set_symbol_lookups(ARRAY(SELECT DISTINCT symbol FROM alerts WHERE symbol IS NOT NULL))")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON alerts")
    op.execute("DROP FUNCTION alerts_written()")
    op.execute("DROP FUNCTION set_symbol_lookups(text[])")
