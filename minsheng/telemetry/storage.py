"""Where readings go: one multi-row statement per batch, roll-ups, monthly partitions and retention.

PostgreSQL: the batch travels as four arrays (`unnest`), is inserted with ON CONFLICT DO NOTHING on
(device, time, metric), and the rows actually inserted (RETURNING) feed the minute and hour roll-ups
in the same statement; a redelivered reading therefore adds nothing anywhere. The readings table is
partitioned by month (migration 0004): partitions are created ahead by the scheduler
(`ensure_partitions`), and ingest creates a missing one itself before inserting into it, so a late
scheduler never stops ingest. Retention drops whole partitions.

SQLite: one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING per chunk; roll-ups are summed in
Python and upserted; retention deletes in batches.
"""

# ruff: noqa: S608 - the SQL here interpolates only this module's table names, partition names made
# from dates and integers; every value travels as a parameter.
from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterable

import psycopg
from django.db import connection, transaction

from minsheng.telemetry.validation import Row

log = logging.getLogger(__name__)

READINGS = "telemetry_reading"
MINUTES = "telemetry_readingminute"
HOURS = "telemetry_readinghour"
_PARTITION = re.compile(r"^telemetry_reading_p(\d{4})(\d{2})$")
SQLITE_CHUNK = 2000  # rows per statement: 5 parameters each, well under SQLite's 32,766

_known_partitions: set[tuple[str, dt.date]] = set()  # (database name, month) known to exist


def _vendor() -> str:
    return connection.vendor


# ---------------------------------------------------------------------------------------------
# insert


def insert(rows: list[Row], *, received_at: dt.datetime) -> list[Row]:
    """Store the rows (inside the caller's transaction) and update the roll-ups; returns the rows
    that were new. `rows` must not repeat a key (ingest dedupes the batch)."""
    if not rows:
        return []
    rows = sorted(rows, key=lambda r: (r.device_pk, r.time, r.metric))  # one lock order for all processes
    if _vendor() == "postgresql":
        return _insert_pg(rows, received_at)
    return _insert_sqlite(rows, received_at)


def _rollup_sql(table: str, unit: str) -> str:
    return f"""
    INSERT INTO {table} (device_id, metric, bucket, count, total, minimum, maximum)
    SELECT device_id, metric, date_trunc('{unit}', time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS b,
           count(*), sum(value), min(value), max(value)
    FROM ins GROUP BY device_id, metric, b ORDER BY device_id, metric, b
    ON CONFLICT (device_id, metric, bucket) DO UPDATE SET
        count = {table}.count + EXCLUDED.count, total = {table}.total + EXCLUDED.total,
        minimum = LEAST({table}.minimum, EXCLUDED.minimum), maximum = GREATEST({table}.maximum, EXCLUDED.maximum)
    """


_PG_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS telemetry_incoming (device_id bigint, time timestamptz, "
             "metric varchar(24), value float8) ON COMMIT DELETE ROWS")
_PG_COPY = "COPY telemetry_incoming (device_id, time, metric, value) FROM STDIN (FORMAT BINARY)"
_PG_INSERT = f"""
WITH ins AS (
    INSERT INTO {READINGS} (device_id, time, metric, value, received_at)
    SELECT device_id, time, metric, value, %s FROM telemetry_incoming ORDER BY device_id, time, metric
    ON CONFLICT (device_id, time, metric) DO NOTHING
    RETURNING device_id, time, metric, value
), minutes AS ({_rollup_sql(MINUTES, "minute")}
), hours AS ({_rollup_sql(HOURS, "hour")}
), staged AS (SELECT device_id, count(*) AS n FROM telemetry_incoming GROUP BY device_id
), got AS (SELECT device_id, count(*) AS n FROM ins GROUP BY device_id
)
SELECT device_id, NULL::timestamptz, NULL::varchar, n FROM got
UNION ALL
SELECT i.device_id, i.time, i.metric, 0 FROM ins i JOIN got g USING (device_id) JOIN staged s USING (device_id)
WHERE g.n < s.n
"""


def _insert_pg(rows: list[Row], received_at: dt.datetime) -> list[Row]:
    ensure_partitions_for((min(r.time for r in rows), max(r.time for r in rows)))  # at most the backfill window
    connection.ensure_connection()
    # COPY the batch into a session-local staging table (emptied at commit), then one INSERT … SELECT
    # … ON CONFLICT DO NOTHING whose RETURNING feeds the roll-ups. psycopg writes COPY rows in C;
    # Django's cursor would build the statement's text in Python. The statement answers with the
    # number of new rows per device and, only for a device of which some rows were stored before (a
    # redelivery), which rows were new: the usual answer is one short row per device.
    with psycopg.Cursor(connection.connection) as cur:
        cur.execute(_PG_STAGE)
        with cur.copy(_PG_COPY) as copy:
            copy.set_types(["int8", "timestamptz", "varchar", "float8"])
            for row in rows:
                copy.write_row(row)
        cur.execute(_PG_INSERT, [received_at])
        result = cur.fetchall()
        cur.execute("TRUNCATE telemetry_incoming")
    staged: dict[int, int] = defaultdict(int)
    for r in rows:
        staged[r.device_pk] += 1
    new_count = {d: n for d, t, _m, n in result if t is None}
    partial = {(d, t, m) for d, t, m, _n in result if t is not None}
    return [r for r in rows if (n := new_count.get(r.device_pk, 0)) == staged[r.device_pk]
            or (n and (r.device_pk, r.time, r.metric) in partial)]


def _months_between(low: dt.datetime, high: dt.datetime) -> list[dt.date]:
    month, last = month_start(low.astimezone(dt.UTC).date()), month_start(high.astimezone(dt.UTC).date())
    out = [month]
    while month < last:
        month = add_months(month, 1)
        out.append(month)
    return out


def _sqlite_time(value: dt.datetime) -> str:
    """Django's text form of an aware datetime in SQLite (UTC, naive): the unique key compares text."""
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _insert_sqlite(rows: list[Row], received_at: dt.datetime) -> list[Row]:
    received = _sqlite_time(received_at)
    by_key = {(r.device_pk, _sqlite_time(r.time), r.metric): r for r in rows}
    keys = list(by_key)
    new: list[Row] = []
    with connection.cursor() as cur:
        for start in range(0, len(keys), SQLITE_CHUNK):
            chunk = keys[start:start + SQLITE_CHUNK]
            params: list[object] = []
            for key in chunk:
                params += [key[0], key[1], key[2], by_key[key].value, received]
            values = ",".join(["(%s,%s,%s,%s,%s)"] * len(chunk))
            cur.execute(f"INSERT INTO {READINGS} (device_id, time, metric, value, received_at) VALUES {values} "
                        "ON CONFLICT (device_id, time, metric) DO NOTHING "
                        "RETURNING device_id, CAST(time AS TEXT), metric", params)
            new += [by_key[(d, t, m)] for d, t, m in cur.fetchall()]
        for table, unit in ((MINUTES, "minute"), (HOURS, "hour")):
            buckets: dict[tuple[int, str, str], list[float]] = {}
            for r in new:
                key = (r.device_pk, r.metric, _sqlite_time(_truncate(r.time, unit)))
                b = buckets.get(key)
                if b is None:
                    buckets[key] = [1, r.value, r.value, r.value]
                else:
                    b[0] += 1
                    b[1] += r.value
                    b[2] = min(b[2], r.value)
                    b[3] = max(b[3], r.value)
            cur.executemany(
                f"INSERT INTO {table} (device_id, metric, bucket, count, total, minimum, maximum) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (device_id, metric, bucket) DO UPDATE SET "
                f"count = {table}.count + excluded.count, total = {table}.total + excluded.total, "
                f"minimum = MIN({table}.minimum, excluded.minimum), maximum = MAX({table}.maximum, excluded.maximum)",
                [(*k, *v) for k, v in sorted(buckets.items())])
    return sorted(new, key=lambda r: (r.device_pk, r.time, r.metric))


def _truncate(value: dt.datetime, unit: str) -> dt.datetime:
    value = value.astimezone(dt.UTC)
    if unit == "minute":
        return value.replace(second=0, microsecond=0)
    return value.replace(minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------------------------------------
# partitions (PostgreSQL)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"{READINGS}_p{month:%Y%m}"


def _create_partition_sql(month: dt.date) -> str:
    lower, upper = month, add_months(month, 1)
    return (f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF {READINGS} "
            f"FOR VALUES FROM ('{lower.isoformat()} 00:00:00+00') TO ('{upper.isoformat()} 00:00:00+00')")


def is_partitioned() -> bool:
    if _vendor() != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)", [READINGS])
        row = cur.fetchone()
    return bool(row) and row[0] == "p"


def partitions() -> list[tuple[str, dt.date, int]]:
    """(name, month, approximate rows) of each partition of the readings table, oldest first;
    [] when the table is not partitioned (SQLite)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cur:
        cur.execute("""SELECT c.relname, c.reltuples::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                       WHERE i.inhparent = to_regclass(%s)""", [READINGS])
        out = []
        for name, rows in cur.fetchall():
            m = _PARTITION.match(name)
            if m:
                out.append((name, dt.date(int(m[1]), int(m[2]), 1), max(int(rows), 0)))
    return sorted(out, key=lambda p: p[1])


def ensure_partitions(*, ahead: int = 3, today: dt.date | None = None) -> list[str]:
    """Create the partitions for this month and `ahead` months after it; returns those created."""
    if not is_partitioned():
        return []
    today = today or dt.datetime.now(dt.UTC).date()
    existing = {p[1] for p in partitions()}
    created = []
    for n in range(ahead + 1):
        month = add_months(month_start(today), n)
        if month not in existing:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(_create_partition_sql(month))
            created.append(partition_name(month))
        _known_partitions.add((connection.settings_dict["NAME"], month))
    return created


def ensure_partitions_for(span: tuple[dt.datetime, dt.datetime]) -> None:
    """Ingest's safety net: the partitions of the months from span[0] to span[1] exist (checked once
    per process and month)."""
    db = connection.settings_dict["NAME"]
    for month in _months_between(*span):
        if (db, month) in _known_partitions:
            continue
        with connection.cursor() as cur:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
                        [partition_name(month), READINGS])
            exists, _parent = cur.fetchone()
            if not exists and is_partitioned():
                log.warning("creating missing readings partition %s", partition_name(month))
                cur.execute(_create_partition_sql(month))
        _known_partitions.add((db, month))


def forget_known_partitions() -> None:
    _known_partitions.clear()


# ---------------------------------------------------------------------------------------------
# retention


def purge(*, before: dt.datetime, hours_before: dt.datetime | None = None, batch: int = 5000) -> dict[str, int]:
    """Remove readings and minute roll-ups older than `before` (hour roll-ups older than
    `hours_before`, kept when None). PostgreSQL drops each partition wholly older than `before`
    (a partition straddling it waits for its month to pass); SQLite deletes in batches."""
    out = {"partitions_dropped": 0, "readings_deleted": 0, "minutes_deleted": 0, "hours_deleted": 0}
    if is_partitioned():
        cutoff = before.astimezone(dt.UTC).date()
        for name, month, _rows in partitions():
            if add_months(month, 1) <= cutoff:
                with transaction.atomic(), connection.cursor() as cur:
                    cur.execute(f"DROP TABLE {name}")
                out["partitions_dropped"] += 1
                _known_partitions.discard((connection.settings_dict["NAME"], month))
    else:
        out["readings_deleted"] = _delete_batches(READINGS, "time", before, batch)
    out["minutes_deleted"] = _delete_batches(MINUTES, "bucket", before, batch)
    if hours_before is not None:
        out["hours_deleted"] = _delete_batches(HOURS, "bucket", hours_before, batch)
    return out


def _delete_batches(table: str, column: str, before: dt.datetime, batch: int) -> int:
    value: object = _sqlite_time(before) if _vendor() == "sqlite" else before
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {column} < %s "
                        f"ORDER BY id LIMIT {int(batch)})", [value])
            n = cur.rowcount
        total += n
        if n < batch:
            return total


def rollup_counts() -> dict[str, int]:
    """For tests and the operator: rows per roll-up table."""
    with connection.cursor() as cur:
        out = {}
        for table in (MINUTES, HOURS):
            cur.execute(f"SELECT count(*) FROM {table}")
            out[table] = cur.fetchone()[0]
    return out


def group_rows(rows: Iterable[Row]) -> dict[tuple[int, str], list[Row]]:
    out: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for r in rows:
        out[(r.device_pk, r.metric)].append(r)
    return out


# ---------------------------------------------------------------------------------------------
# reading the roll-ups (charts)


def rollup_series(device_pks: list[int], metric: str, *, since: dt.datetime, until: dt.datetime,
                  unit: str = "hour") -> dict[int, list[tuple[dt.datetime, float, float, float, int]]]:
    """Per device, (bucket start, mean, min, max, count) of one metric in [since, until), oldest
    first, from the hour (or minute) roll-ups: a chart of a month reads ~720 rows per device, not
    the readings. Buckets are UTC hours (local hours wherever the offset is whole hours)."""
    from minsheng.telemetry.models import ReadingHour, ReadingMinute

    model = ReadingHour if unit == "hour" else ReadingMinute
    out: dict[int, list[tuple[dt.datetime, float, float, float, int]]] = {pk: [] for pk in device_pks}
    for device_id, bucket, total, count, low, high in (
            model.objects.filter(device_id__in=device_pks, metric=metric, bucket__gte=since, bucket__lt=until)
            .order_by("bucket").values_list("device_id", "bucket", "total", "count", "minimum", "maximum")):
        out[device_id].append((bucket, round(total / count, 3), low, high, count))
    return out
