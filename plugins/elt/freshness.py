"""Is a source fresh up to a date? Which partitions of an interval are not completely loaded and validated.

A day counts only when every table of the source is in order for it:

- its latest load (the latest batch in `audit.load_log` for that table and partition) loaded files, or
  landed no file where the table's contract allows a day without one (`Table.every_day = False`), and
- a table that loaded files passed its latest validation (`audit.dq_runs.success` of the latest run for
  that table and partition), and that validation ran after the load (a table with no file that day has
  nothing to validate),

and at least one table loaded a file that day (a day with no file at all is not a loaded day).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from elt import warehouse
from elt.sources import get_source

ERROR_CHARS = 200


@dataclass(frozen=True)
class TableState:
    """What audit says about one table partition: its latest load and its latest validation."""

    table: str
    day: date
    batch_id: int
    status: str  # failed | loaded | no_files | another status of the batch (skipped, duplicate)
    finished_at: datetime
    error: str | None
    run_id: int | None
    success: bool | None
    validated_at: datetime | None
    rows_checked: int | None
    error_rows: int | None


STATES_SQL = """
with batches as (
    select table_name, partition_date, batch_id, max(finished_at) as finished_at,
           case when bool_or(status = 'failed') then 'failed'
                when bool_or(status = 'loaded') then 'loaded'
                when bool_or(status = 'no_files') then 'no_files'
                else min(status) end as status,
           min(error) filter (where status = 'failed') as error
    from audit.load_log
    where source = %(source)s and partition_date >= %(start)s and partition_date < %(end)s
    group by table_name, partition_date, batch_id
), latest as (
    select distinct on (table_name, partition_date) *
    from batches
    order by table_name, partition_date, finished_at desc, batch_id desc
)
select l.table_name, l.partition_date, l.batch_id, l.status, l.finished_at, l.error,
       r.run_id, r.success, r.started_at, r.rows_checked, r.error_rows
from latest l
left join lateral (
    select run_id, success, started_at, rows_checked, error_rows
    from audit.dq_runs d
    where d.source = %(source)s and d.table_name = l.table_name and d.partition_date = l.partition_date
    order by d.run_id desc
    limit 1
) r on true
"""


def table_states(
    source: str, start: date, end: date, params: warehouse.ServerParams | None = None
) -> dict[tuple[str, date], TableState]:
    """The latest load and validation of every table partition of `source` in [start, end) that audit knows."""
    with warehouse.connect(params) as conn:
        rows = conn.execute(STATES_SQL, {"source": source, "start": start, "end": end}).fetchall()
    return {(row[0], row[1]): TableState(*row) for row in rows}


def _first_line(text: str | None) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else "no error recorded"
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def _table_problem(state: TableState | None, every_day: bool) -> str | None:
    """What keeps one table partition from counting, or None if it counts."""
    if state is None:
        return "not loaded (no load in audit.load_log)"  # partition_problems lists these tables on one line
    if state.status == "failed":
        return f"latest load failed (batch {state.batch_id}): {_first_line(state.error)}"
    if state.status != "loaded":
        if every_day:
            return f"no file loaded ({state.status}, batch {state.batch_id}); its contract expects one every day"
        return None  # no file that day, as its contract allows: nothing to validate
    if state.run_id is None:
        return f"loaded (batch {state.batch_id}) but never validated"
    if state.validated_at < state.finished_at:
        return f"loaded again (batch {state.batch_id}) after its latest validation (run {state.run_id})"
    if not state.success:
        return (
            f"latest validation failed (run {state.run_id}: {state.error_rows:,} of {state.rows_checked:,} rows"
            " with errors, over the suite's threshold; see audit.dq_exceptions)"
        )
    return None


def partition_problems(
    source: str, start: date, end: date, params: warehouse.ServerParams | None = None
) -> dict[date, list[str]]:
    """Every date in [start, end) that does not count as loaded, with what is wrong, one line per table
    ('table: problem'); an empty dict when the source is fresh."""
    contract = get_source(source)
    states = table_states(source, start, end, params)
    problems: dict[date, list[str]] = {}
    for day in (start + timedelta(n) for n in range((end - start).days)):
        day_states = {table.name: states.get((table.name, day)) for table in contract.tables}
        if not any(day_states.values()):
            problems[day] = ["not loaded (no load of any table in audit.load_log)"]
            continue
        lines = [
            f"{table.name}: {problem}"
            for table in contract.tables
            if day_states[table.name] and (problem := _table_problem(day_states[table.name], table.every_day))
        ]
        if unloaded := [table.name for table in contract.tables if day_states[table.name] is None]:
            lines.append(f"not loaded (no load in audit.load_log): {', '.join(unloaded)}")
        if not lines and not any(state and state.status == "loaded" for state in day_states.values()):
            lines = ["no file of any table landed (every table: no_files)"]
        if lines:
            problems[day] = lines
    return problems


def missing_partitions(source: str, start: date, end: date, params: warehouse.ServerParams | None = None) -> list[date]:
    """Dates in [start, end) that do not count as loaded (see partition_problems for why)."""
    return list(partition_problems(source, start, end, params))


def describe_missing(source: str, end: date, missing: Mapping[date, Sequence[str]] | Sequence[date]) -> str:
    """A message naming the partitions that do not count, why (when `missing` maps them to their problems),
    and how to fill them."""
    problems = missing if isinstance(missing, Mapping) else {day: [] for day in missing}
    days = sorted(problems)
    listed = ", ".join(day.isoformat() for day in days)
    lines = [
        f"{source} is not fresh up to {end}: no successful load for partition(s) {listed} "
        "(a day counts when every table loaded, or had no file where its contract allows that, "
        "and passed its latest validation; audit.load_log, audit.dq_runs)."
    ]
    for day in days:
        if problems[day]:
            lines.append(f"  {day}: " + "; ".join(problems[day]))
    lines.append(
        f"Land or fix their files and run {source}_daily for them, e.g. "
        f"`elt backfill {source}_daily --start {days[0]} --end {days[-1]}`."
    )
    return "\n".join(lines)
