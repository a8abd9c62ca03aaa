"""`make bench`'s compute floor: DuckDB computes the voucher mart (dbt_project/models/{staging,intermediate,marts}/
vouchers and the voucher_segments seed) from the same CSV file the loader loads, in one query (issue 15). DuckDB is a
development dependency: only the bench imports it, never the pipeline."""

from __future__ import annotations

import statistics
import time
from datetime import date
from pathlib import Path

from elt import config, warehouse

MartRow = tuple[str, str, str, float, int, int]  # country, segment type, segment, amount, assignments, segment's

# The suites' error rules (expectations/raw_vouchers.voucher_assignments.json) quarantine a row; staging's safe casts;
# the intermediate model's segments as of the run's date; the mart's most assigned amount (a tie: the smaller).
VOUCHER_MART = """
with raw as (
    select * from read_csv($file, all_varchar = true, header = true)
),
passed as (
    select * from raw
    where regexp_matches(trim("timestamp"), '^[0-9]') and try_cast(trim("timestamp") as timestamp) is not null
      and coalesce(trim(country_code), '') <> ''
      and regexp_matches(trim(last_order_ts), '^[0-9]') and try_cast(trim(last_order_ts) as timestamp) is not null
      and lower(trim(voucher_amount)) not like '%inf%' and lower(trim(voucher_amount)) <> 'nan'
      and try_cast(trim(voucher_amount) as decimal(38, 10)) > 0
      and (coalesce(trim(total_orders), '') = '' or regexp_full_match(trim(total_orders), '\\+?[0-9]+(\\.0*)?'))
),
staged as (
    select
        cast(trim("timestamp") as timestamp) as assigned_at,
        trim(country_code) as country_code,
        cast(cast(trim(last_order_ts) as timestamp) as date) as last_order_date,
        case when regexp_full_match(trim(total_orders), '[+-]?[0-9]{1,9}(\\.0*)?')
            then cast(cast(trim(total_orders) as decimal(18, 0)) as integer) end as total_orders,
        cast(trim(voucher_amount) as decimal(38, 10)) as voucher_amount
    from passed
),
as_of as (
    select *, date_diff('day', last_order_date, $day) as days_since_last_order
    from staged where assigned_at < $day + interval 1 day
),
segment_values as (
    select country_code, voucher_amount, 'frequent_segment' as segment_type, total_orders as segment_value
    from as_of where total_orders is not null
    union all
    select country_code, voucher_amount, 'recency_segment', days_since_last_order
    from as_of where days_since_last_order is not null
),
segmented as (
    select v.*, s.segment
    from segment_values as v
    inner join read_csv($seeds, header = true, all_varchar = true) as s
        on v.segment_type = s.segment_type and v.segment_value >= cast(s.min_value as integer)
        and (s.max_value is null or v.segment_value <= cast(s.max_value as integer))
),
ranked as (
    select country_code, segment_type, segment, voucher_amount, count(*) as assignments,
        sum(count(*)) over (partition by country_code, segment_type, segment) as segment_assignments,
        row_number() over (
            partition by country_code, segment_type, segment order by count(*) desc, voucher_amount
        ) as amount_rank
    from segmented
    group by country_code, segment_type, segment, voucher_amount
)
select country_code, segment_type, segment, cast(voucher_amount as double), assignments,
    cast(segment_assignments as bigint)
from ranked where amount_rank = 1
order by 1, 2, 3
"""


def voucher_mart(path: Path, day: date) -> list[MartRow]:
    """The mart of the partition `day` from the voucher CSV at `path`, computed by DuckDB in memory."""
    import duckdb

    seeds = config.PROJECT_DIR / "dbt_project" / "seeds" / "voucher_segments.csv"
    with duckdb.connect() as conn:
        rows = conn.execute(VOUCHER_MART, {"file": str(path), "seeds": str(seeds), "day": day}).fetchall()
    return [(c, t, s, float(a), int(n), int(total)) for c, t, s, a, n, total in rows]


def voucher_mart_seconds(path: Path, day: date, repeats: int = 3) -> tuple[float, list[MartRow]]:
    """Median seconds of `voucher_mart` (a new in-memory database each time, the file read each time); the mart."""
    times, mart = [], []
    for _ in range(repeats):
        clock = time.perf_counter()
        mart = voucher_mart(path, day)
        times.append(time.perf_counter() - clock)
    return statistics.median(times), mart


def compare_marts(expected: list[MartRow], target: warehouse.ServerParams, day: date) -> bool | str:
    """True when marts.voucher_most_used as of `day` holds the rows DuckDB computed; else what differs."""
    with warehouse.connect(target) as conn:
        found = conn.execute(
            "select country_code, segment_type, segment, voucher_amount::float8, assignments, segment_assignments"
            " from marts.voucher_most_used where as_of_date = %s order by 1, 2, 3",
            (day,),
        ).fetchall()
    built = [(c, t, s, float(a), int(n), int(total)) for c, t, s, a, n, total in found]
    if built == expected:
        return True

    def totals(rows: list[MartRow]) -> str:
        return f"{len(rows)} rows, {sum(r[4] for r in rows):,} assignments, {sum(r[5] for r in rows):,} in segments"

    differing = len(set(built) ^ set(expected))
    return f"Postgres {totals(built)}; DuckDB {totals(expected)}; {differing} rows in one only"
