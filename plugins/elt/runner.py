"""Run DAGs in-process with `dag.test()`: one run per partition date, no scheduler needed."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from elt import airflow_env, config, localdb, warehouse

log = logging.getLogger(__name__)


def prepare() -> dict[str, str]:
    """Start the embedded server if none is configured, bootstrap the warehouse, migrate Airflow's database."""
    if warehouse.configured_params() is None:
        localdb.start()
    warehouse.bootstrap()
    env = airflow_env.apply()
    params = warehouse.warehouse_params()
    warehouse.create_database(params, warehouse.AIRFLOW_DB)
    _migrate_airflow(env)
    return env


def _migrate_airflow(env: dict[str, str]) -> None:
    """`airflow db migrate` once per Airflow version and metadata database."""
    import airflow

    marker = Path(env["AIRFLOW_HOME"]) / ".migrated"
    stamp = f"{airflow.__version__} {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}"
    if marker.exists() and marker.read_text() == stamp:
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    log.info("Preparing Airflow's metadata database (first run only)...")
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        check=True,
        env={**_os_env(), **env},
        stdout=subprocess.DEVNULL,
    )
    marker.write_text(stamp)


def _os_env() -> dict[str, str]:
    import os

    return dict(os.environ)


def load_dags() -> dict:
    """Every DAG in the project's dags folder, by id; import errors raise."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(config.DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError("DAG import errors:\n" + "\n".join(f"{k}: {v}" for k, v in bag.import_errors.items()))
    return bag.dags


def _core_timetable(dag):
    """The scheduler's view of a DAG's timetable (it can compute intervals)."""
    from airflow.serialization.encoders import coerce_to_core_timetable

    return coerce_to_core_timetable(dag.timetable)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def interval_starting(dag, partition: date):
    """The data interval of `dag` that starts at `partition` (00:00 UTC), or a clear error."""
    from airflow.timetables.base import TimeRestriction

    start = _midnight(partition)
    restriction = TimeRestriction(earliest=start, latest=None, catchup=True)
    info = _core_timetable(dag).next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    if info is None or info.data_interval.start != start:
        nearest = f" (nearest: {info.data_interval.start:%Y-%m-%d})" if info else ""
        raise ValueError(f"{partition} is not the start of a {dag.dag_id} interval{nearest}")
    return info.data_interval


def run_dag(dag_id: str, partition: date, conf: dict | None = None) -> bool:
    """One run of `dag_id` whose data interval starts at `partition` (params from `conf`); True on success."""
    dags = load_dags()
    if dag_id not in dags:
        raise KeyError(f"unknown DAG {dag_id!r}; known: {', '.join(sorted(dags))}")
    dag = dags[dag_id]
    for task in dag.tasks:
        task.retries = 0  # an in-process run reports a failure at once instead of waiting for retries
    interval = interval_starting(dag, partition)
    clock = time.monotonic()
    # dag.test() runs the interval that ends at its logical date
    dag_run = dag.test(logical_date=interval.end, run_conf=conf)
    if dag_run.data_interval_start != interval.start:
        raise RuntimeError(f"{dag_id} ran {dag_run.data_interval_start} instead of {interval.start}")
    state = str(dag_run.state)
    log.info("%s %s: %s in %.0f s", dag_id, partition, state, time.monotonic() - clock)
    if not state.endswith("success"):
        states = {ti.task_id: str(ti.state).split(".")[-1].lower() for ti in dag_run.get_task_instances()}
        failed = [task_id for task_id, task_state in states.items() if task_state == "failed"]
        blocked = sum(task_state == "upstream_failed" for task_state in states.values())
        log.error(
            "%s %s: task(s) %s failed (%d downstream not run); the error is in the log above",
            dag_id,
            partition,
            ", ".join(failed) or "?",
            blocked,
        )
    return state.endswith("success")


def schedule_runs(dag_ids: list[str], start: date, end: date) -> list[tuple[str, date]]:
    """(DAG id, partition date) of every interval starting between `start` and `end` (inclusive), in the order
    they can run: by interval end, a shorter interval first, so a week is built after its last day is loaded."""
    from airflow.timetables.base import TimeRestriction

    dags = load_dags()
    restriction = TimeRestriction(earliest=_midnight(start), latest=_midnight(end), catchup=True)
    runs = []
    for dag_id in dag_ids:
        timetable, last = _core_timetable(dags[dag_id]), None
        while info := timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction):
            last = info.data_interval
            runs.append((last.end, last.end - last.start, dag_id, last.start.date()))
    return [(dag_id, day) for _end, _length, dag_id, day in sorted(runs)]
