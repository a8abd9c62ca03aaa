"""Is a source loaded up to a date? The partitions of an interval with no successful load in audit.load_log."""

from __future__ import annotations

from datetime import date, timedelta

from elt import warehouse


def missing_partitions(source: str, start: date, end: date, params: warehouse.ServerParams | None = None) -> list[date]:
    """Dates in [start, end) for which no file of `source` loaded successfully."""
    with warehouse.connect(params) as conn:
        loaded = {
            row[0]
            for row in conn.execute(
                "select distinct partition_date from audit.load_log"
                " where source = %s and status = 'loaded' and partition_date >= %s and partition_date < %s",
                (source, start, end),
            )
        }
    days = (end - start).days
    return [day for day in (start + timedelta(n) for n in range(days)) if day not in loaded]


def describe_missing(source: str, end: date, missing: list[date]) -> str:
    """A message naming the missing partitions and how to fill them."""
    days = ", ".join(day.isoformat() for day in missing)
    return (
        f"{source} is not fresh up to {end}: no successful load for partition(s) {days} "
        f"(audit.load_log). Land their files and run {source}_daily for them, e.g. "
        f"`elt backfill {source}_daily --start {missing[0]} --end {missing[-1]}`."
    )
