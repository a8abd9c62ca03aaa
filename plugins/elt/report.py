"""A plain-text report of what the marts and the exceptions hold, for `make demo` and `elt report`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import psycopg
from psycopg import sql

from elt import warehouse


def _cell(value: str, width: int) -> str:
    """Numbers right-aligned, text left-aligned."""
    return value.rjust(width) if value.replace(".", "").isdigit() else value.ljust(width)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(_cell(v, w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def _latest_as_of(conn: psycopg.Connection, mart: str, as_of: date | None) -> date | None:
    """The latest as_of_date of a mart on or before `as_of` (any when None); None when the mart is empty or absent."""
    if conn.execute("select to_regclass(%s)", (f"marts.{mart}",)).fetchone()[0] is None:
        return None
    return conn.execute(
        sql.SQL("select max(as_of_date) from {} where %(d)s::date is null or as_of_date <= %(d)s").format(
            sql.Identifier("marts", mart)
        ),
        {"d": as_of},
    ).fetchone()[0]


def print_report(as_of: date | None = None) -> None:
    with warehouse.connect() as conn:
        _print_voucher_most_used(conn, as_of)
        _print_customer_segments(conn, as_of)
        _print_quality(conn)


def _print_voucher_most_used(conn: psycopg.Connection, as_of: date | None) -> None:
    """The latest day of marts.voucher_most_used."""
    latest = _latest_as_of(conn, "voucher_most_used", as_of)
    if latest is None:
        return
    print(f"\n== marts.voucher_most_used as of {latest} ==")
    rows = conn.execute(
        "select country_code, segment_type, segment, voucher_amount, assignments, segment_assignments"
        " from marts.voucher_most_used where as_of_date = %s"
        " order by country_code, segment_type, substring(segment from '^[0-9]+')::int",
        (latest,),
    ).fetchall()
    print(format_table(["country", "segment_type", "segment", "voucher_amount", "assignments", "segment_total"], rows))


def _print_quality(conn: psycopg.Connection) -> None:
    """Exceptions by rule, and the latest validation run of every partition."""
    print("\n== audit.dq_exceptions: failing values by rule ==")
    rows = conn.execute(
        "select source, table_name, rule, severity, count(*), count(distinct partition_date),"
        " min(source_file || ':' || source_row) from audit.dq_exceptions group by 1, 2, 3, 4 order by 1, 2, 4, 3"
    ).fetchall()
    print(format_table(["source", "table", "rule", "severity", "rows", "partitions", "example (file:row)"], rows))
    print("\n== audit.dq_runs: the latest run of every partition, per table ==")
    rows = conn.execute(
        "with latest as (select distinct on (source, table_name, partition_date) * from audit.dq_runs"
        " order by source, table_name, partition_date, run_id desc)"
        " select source, table_name, min(partition_date) || ' .. ' || max(partition_date), count(*),"
        " sum(rows_checked), sum(error_rows), sum(warn_rows), count(*) filter (where not success)"
        " from latest group by 1, 2 order by 1, 2"
    ).fetchall()
    print(
        format_table(["source", "table", "partitions", "runs", "rows", "error_rows", "warn_rows", "failed_runs"], rows)
    )


def _print_customer_segments(conn: psycopg.Connection, as_of: date | None) -> None:
    """The latest week of marts.customer_segments by profile level, and its clusters."""
    latest = _latest_as_of(conn, "customer_segments", as_of)
    if latest is None:
        return
    print(f"\n== marts.customer_segments as of {latest}: customers by profit level ==")
    rows = conn.execute(
        "select profit_level, count(*), count(r_score), round(avg(spend_last_year), 2),"
        " round(avg(return_rate), 4), round(avg(clv_estimate), 2)"
        " from marts.customer_segments where as_of_date = %s group by 1 order by 1",
        (latest,),
    ).fetchall()
    print(format_table(["profit_level", "customers", "buyers", "avg_spend", "avg_return_rate", "avg_clv"], rows))
    print(f"\n== marts.customer_cluster_profiles as of {latest} ==")
    rows = conn.execute(
        "select cluster, customers, recency_days_mean, frequency_orders_last_year_mean, spend_last_year_mean,"
        " return_rate_mean, distance_km_mean from marts.customer_cluster_profiles where as_of_date = %s"
        " order by cluster",
        (latest,),
    ).fetchall()
    print(format_table(["cluster", "customers", "recency", "orders", "spend", "return_rate", "distance_km"], rows))
