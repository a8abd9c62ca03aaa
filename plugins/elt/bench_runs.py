"""`make bench`'s timed DAG runs: a warehouse and an Airflow metadata database for each, the run's start..end and
tasks as Airflow recorded them, and the measures made of them (whole runs, flat with history, validation)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from elt import config, connection, warehouse
from elt.bench_report import Measure, Results, RunTimes, TaskTime
from elt.serve.running import ELT
from elt.sources import SOURCES, get_source

VALIDATION_GOAL = 2.0  # validation's seconds / one SQL pass evaluating all of a table's rules
FLAT_GOAL = 1.2  # the last daily run of a history / the first


def time_of(action: Callable[[], object]) -> float:
    """Seconds `action()` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def dag_env(
    params: warehouse.ServerParams, dbname: str, landing: Path, state: Path
) -> tuple[warehouse.ServerParams, dict[str, str]]:
    """A new warehouse database `dbname` on the benchmark's server, with an Airflow metadata database of its own,
    and the environment of `elt` against them; what a state folder's first run prepares once (Airflow's metadata
    database, dbt's parse of the project for the warehouse) is done outside any timing."""
    airflow_db = params.database(f"airflow_{dbname}")
    params = params.database(dbname)
    warehouse.bootstrap(params)
    warehouse.create_database(airflow_db, airflow_db.dbname)
    env = {
        **os.environ,
        "ELT_WAREHOUSE_URL": params.libpq_url(),
        "ELT_LANDING_DIR": str(landing),
        "ELT_STATE_DIR": str(state),
        "AIRFLOW_HOME": str(state / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db.sqlalchemy_url(),
    }
    env.pop("AIRFLOW_CONN_WAREHOUSE", None)
    # what every run does first when needed, once per state folder: Airflow's migration, dbt's parse for the profile
    prepare = "from elt import runner; runner.prepare(); runner.parse_dbt_project()"
    subprocess.run([sys.executable, "-c", prepare], env=env, check=True)
    return params, env


def time_dag_run(env: dict[str, str], dag_id: str, day: date, results: Results, label: str = "") -> RunTimes:
    """One `elt run` (a whole DAG run in its own process, start-up included), its log in a file; its wall time, and
    the run's start..end and tasks as Airflow recorded them, added to `results`."""
    log_path = config.state_dir() / "bench" / f"{dag_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"running {dag_id} {day} (log: {log_path}) ...", flush=True)
    start = time.perf_counter()
    command = [ELT, "run", dag_id, "--date", day.isoformat()]
    with log_path.open("w") as log_file:
        result = subprocess.run(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{dag_id} failed during the benchmark; see {log_path}")
    run = run_times(env, dag_id, day, seconds, label or f"{dag_id} {day}")
    results.runs.append(run)
    return run


def airflow_params(env: dict[str, str]) -> warehouse.ServerParams:
    """The Airflow metadata database that `dag_env` made for the warehouse of `env`."""
    params = connection.from_libpq(env["ELT_WAREHOUSE_URL"])
    return params.database(f"airflow_{params.dbname}")


def run_times(env: dict[str, str], dag_id: str, day: date, wall: float, label: str) -> RunTimes:
    """The latest run of `dag_id` for partition `day` in the metadata database of `env`: its start..end, queueing
    and each task's seconds (a mapped task's instances as one)."""
    with warehouse.connect(airflow_params(env)) as conn:
        found = conn.execute(
            "select run_id, extract(epoch from end_date - start_date), extract(epoch from start_date - queued_at)"
            " from dag_run where dag_id = %s and logical_date = %s order by id desc limit 1",
            (dag_id, datetime(day.year, day.month, day.day, tzinfo=UTC)),
        ).fetchone()
        if found is None:
            return RunTimes(label, dag_id, day.isoformat(), wall)
        run_id, run_seconds, queued = found
        tasks = conn.execute(
            "select task_id, sum(extract(epoch from end_date - start_date)) from task_instance"
            " where dag_id = %s and run_id = %s and start_date is not null and end_date is not null"
            " group by task_id order by min(start_date), task_id",
            (dag_id, run_id),
        ).fetchall()
    return RunTimes(
        label,
        dag_id,
        day.isoformat(),
        wall,
        float(run_seconds) if run_seconds is not None else None,
        float(queued) if queued is not None else None,
        [TaskTime(task_id, float(seconds)) for task_id, seconds in tasks],
    )


def whole_run(run: RunTimes, what: str, goal: float | None = None) -> Measure:
    """A DAG run's wall time as a row of the table."""
    return Measure(f"{run.dag_id}: {what}", run.wall, "s", goal)


def run_series(env: dict[str, str], dag_id: str, daily: list[date], results: Results, what: str) -> Measure:
    """`daily` runs one after another: the first and the last timed alike (`elt run`), the ones between as one
    `elt backfill`; the last run's time over the first's (a daily run must not grow with the history)."""
    first = time_dag_run(env, dag_id, daily[0], results, f"{dag_id} {daily[0]} (daily run 1)")
    if len(daily) > 2:
        log_path = config.state_dir() / "bench" / f"{dag_id}_backfill.log"
        print(f"elt backfill {dag_id} {daily[1]} .. {daily[-2]} (log: {log_path}) ...", flush=True)
        command = [ELT, "backfill", dag_id, "--start", daily[1].isoformat(), "--end", daily[-2].isoformat()]
        with log_path.open("w") as log_file:
            subprocess.run(command, env=env, stdout=log_file, stderr=subprocess.STDOUT, check=True)
    last = time_dag_run(env, dag_id, daily[-1], results, f"{dag_id} {daily[-1]} (daily run {len(daily)})")
    note = f"run 1 {first.wall:.1f} s, run {len(daily)} {last.wall:.1f} s; {what}"
    return Measure(f"{dag_id}: flat, run {len(daily)} / run 1", last.wall / first.wall, "x", FLAT_GOAL, note=note)


def generated_history(
    params: warehouse.ServerParams,
    tmp_path: Path,
    dag_id: str,
    start: date,
    days: int,
    results: Results,
    **generate_args: int | float,
) -> Measure:
    """`days` days of the DAG's source written by its sample generator (its default size of a day, or
    `generate_args`), run one after another on a warehouse of their own: is the last run as fast as the first?
    One more day runs first, outside the series: a state folder's first run pays once what the others do not (dbt
    parses the project for the warehouse's profile), and theLook's generator writes the whole export on its first
    day, its daily changes after. The note gives the rows the first and the last run loaded (a snapshot source's day
    may grow). Under 2 days: not measured."""
    from elt.generate import generate

    if days < 2:
        return not_measured(dag_id, f"--history-days {days}")

    (source,) = [source for source in SOURCES.values() if dag_id in source.dag_ids]
    landing = tmp_path / "landing"
    print(f"\nwriting {days + 1} days of {source.name} from {start} ...", flush=True)
    generate(source.name, landing, start, days + 1, seed=2, **generate_args)
    target, env = dag_env(params, f"warehouse_{source.name}_history", landing, tmp_path / "state")
    daily = [start + timedelta(days=n) for n in range(days + 1)]
    time_dag_run(
        env, dag_id, daily.pop(0), results, f"{dag_id} {start} (the state folder's first run, before the series)"
    )
    flat = run_series(env, dag_id, daily, results, "generated days")
    with warehouse.connect(target) as conn:
        loaded = dict(
            conn.execute(
                "select partition_date, sum(rows_loaded) from audit.load_log where source = %s"
                " and partition_date in (%s, %s) group by 1",
                (source.name, daily[0], daily[-1]),
            ).fetchall()
        )
    first, last = (int(loaded.get(day, 0)) for day in (daily[0], daily[-1]))
    flat.note += f" ({first:,} rows loaded by run 1, {last:,} by the last)"
    print(f"{dag_id}, {flat.note}; ratio {flat.value:.2f} (goal <= {FLAT_GOAL}: {'met' if flat.met else 'NOT met'})")
    return flat


def not_measured(dag_id: str, why: str) -> Measure:
    return Measure(f"{dag_id}: flat, run 90 / run 1", None, "x", FLAT_GOAL, note=f"not measured: {why}")


def validation_measures(
    target: warehouse.ServerParams, source_name: str, day: date, run: RunTimes, results: Results
) -> list[Measure]:
    """Each table's validation of the partition (audit.dq_runs' finished_at - started_at) over one SQL pass evaluating
    all its rules (median of 3): the row is the largest table's (the longest pass: a table of 10 rows measures only
    fixed costs), every table goes to the JSON; and the validate task's seconds."""
    from elt import quality

    source = get_source(source_name)
    tables: dict[str, dict[str, float]] = {}
    with warehouse.connect(target) as conn:
        for table in source.tables:
            found = conn.execute(
                "select extract(epoch from finished_at - started_at) from audit.dq_runs where source = %s"
                " and table_name = %s and partition_date = %s order by run_id desc limit 1",
                (source.name, table.name, day),
            ).fetchone()
            if found is None:
                continue
            query = quality.rule_counts_query(source, table, quality.load_suite(source, table))
            quality.use_pass_memory(conn)
            one_pass = statistics.median(
                time_of(lambda q=query: conn.execute(q, {"day": day}).fetchall()) for _ in range(3)
            )
            tables[table.name] = {"validation": float(found[0]), "one_pass": one_pass}
    results.details[f"validation {run.label}"] = tables
    measures = [Measure(f"{run.dag_id}: validate task", run.task_seconds("validate"), "s")]
    if tables:
        name, largest = max(tables.items(), key=lambda item: item[1]["one_pass"])
        note = f"{name}: validation {largest['validation']:.2f} s, one pass {largest['one_pass']:.2f} s"
        if len(tables) > 1:
            total = {key: sum(t[key] for t in tables.values()) for key in ("validation", "one_pass")}
            note += f"; all {len(tables)} tables {total['validation']:.2f} s / {total['one_pass']:.2f} s"
        label = f"{run.dag_id}: validation / one SQL pass" + (" (largest table)" if len(tables) > 1 else "")
        ratio = largest["validation"] / max(largest["one_pass"], 1e-6)
        measures.append(Measure(label, ratio, "x", VALIDATION_GOAL, note=note))
    return measures
