"""A plain-text report of what the marts and the exceptions hold, for `make demo` and `elt report`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import psycopg
from psycopg import sql

from elt import warehouse
from elt.sources import SOURCES, ReportSection


def _cell(value: str, width: int) -> str:
    """Numbers right-aligned, text left-aligned."""
    return value.rjust(width) if value.removeprefix("-").replace(".", "").isdigit() else value.ljust(width)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(_cell(v, w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def _latest_date(conn: psycopg.Connection, section: ReportSection, as_of: date | None) -> date | None:
    """The latest date of a section's mart on or before `as_of` (any when None); None when the mart is empty or
    absent."""
    if conn.execute("select to_regclass(%s)", (f"marts.{section.mart}",)).fetchone()[0] is None:
        return None
    return conn.execute(
        sql.SQL("select max({column}) from {mart} where %(d)s::date is null or {column} <= %(d)s").format(
            column=sql.Identifier(section.date_column), mart=sql.Identifier("marts", section.mart)
        ),
        {"d": as_of},
    ).fetchone()[0]


def print_report(as_of: date | None = None) -> None:
    """Every source's sections (sources in name order), then the exceptions and validation runs."""
    with warehouse.connect() as conn:
        for source in SOURCES.values():
            for section in source.report:
                _print_section(conn, section, as_of)
        _print_quality(conn)


def _print_section(conn: psycopg.Connection, section: ReportSection, as_of: date | None) -> None:
    latest = _latest_date(conn, section, as_of)
    if latest is None:
        return
    print(f"\n== {section.title.format(date=latest)} ==")
    rows = conn.execute(section.query, {"date": latest}).fetchall()
    print(format_table(section.headers, rows))


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
