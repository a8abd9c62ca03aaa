"""Airflow set-up for the CLI, and the in-process executor of one DAG run (when no scheduler runs).

A run is always created by Airflow's own backfill machinery (see `elt.backfill`), so its logical
date is its data interval's start, whoever starts it. This module only *executes* a run that
exists in the metadata database, the way `dag.test()` does, without changing its identity.
"""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from elt import airflow_env, config, connection, localdb, warehouse

if TYPE_CHECKING:
    from airflow.sdk import DAG

log = logging.getLogger(__name__)

# advisory-lock namespace (metadata database) held by the process executing a DAG run
RUN_LOCK_NAMESPACE = 72_431


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


def _migration_stamp(env: dict[str, str]) -> tuple[Path, str]:
    """Where the "metadata database migrated" marker lives, and what it says (Airflow version and database)."""
    import airflow

    return Path(
        env["AIRFLOW_HOME"]
    ) / ".migrated", f"{airflow.__version__} {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}"


def mark_migrated(env: dict[str, str]) -> None:
    """Record that the metadata database of `env` is migrated (after `airflow db migrate`, or a copy of one)."""
    marker, stamp = _migration_stamp(env)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(stamp)


def _migrate_airflow(env: dict[str, str]) -> None:
    """`airflow db migrate` once per Airflow version and metadata database."""
    marker, stamp = _migration_stamp(env)
    if marker.exists() and marker.read_text() == stamp:
        return
    log.info("Preparing Airflow's metadata database (first run only)...")
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        check=True,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
    )
    mark_migrated(env)


def parse_dbt_project() -> None:
    """dbt's parse of the project for the warehouse's profile, once per state folder (and project rebuild), before
    the first run that executes dbt tasks (elt.dbt.prepare_parse). Called once the workers are starting: on a warm
    state folder it only compares two files' times, but imports Cosmos (2 s) that the workers need not wait for."""
    from elt import dbt

    started = time.monotonic()
    if dbt.prepare_parse():
        log.info("Parsed the dbt project for this warehouse (first run only) in %.1f s", time.monotonic() - started)


@cache
def _parsed(path: Path) -> dict[str, DAG]:
    """The DAGs of a DAG file or folder, by id; import errors raise."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path))
    if bag.import_errors:
        raise RuntimeError("DAG import errors:\n" + "\n".join(f"{k}: {v}" for k, v in bag.import_errors.items()))
    return bag.dags


def load_dags() -> dict[str, DAG]:
    """Every DAG in the project's dags folder, by id; import errors raise."""
    return _parsed(config.DAGS_DIR)


def load_dag(dag_id: str) -> DAG:
    """The DAG `dag_id`, from the file named after it (one DAG a file: a quarter of the folder's parse), else from
    the folder."""
    path = config.DAGS_DIR / f"{dag_id}.py"
    dags = _parsed(path) if path.is_file() else {}
    return dags[dag_id] if dag_id in dags else load_dags()[dag_id]


def sync_dags() -> None:
    """Write the project's DAGs to the metadata database, as the dag-processor does (backfills need them)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    manager = DagBundlesManager()
    with create_session() as session:
        manager.sync_bundles_to_db(session=session)
    for bundle in manager.get_all_dag_bundles():
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        if bag.import_errors:
            errors = "\n".join(f"{k}: {v}" for k, v in bag.import_errors.items())
            raise RuntimeError(f"DAG import errors:\n{errors}")
        sync_bag_to_db(bag, bundle.name, bundle.version)


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


@contextmanager
def run_lock(dag_run_id: int) -> Iterator[bool]:
    """Hold a session advisory lock on a DAG run while executing it; yields False if another process holds it.
    The lock lives on a connection of its own (not Airflow's pool, which a task may dispose of) and dies with
    the process, so a run whose executor was killed can be taken over."""
    from airflow import settings

    with warehouse.connect(connection.from_sqlalchemy_url(settings.engine.url), autocommit=True) as conn:
        got = conn.execute("select pg_try_advisory_lock(%s, %s)", (RUN_LOCK_NAMESPACE, dag_run_id)).fetchone()[0]
        yield bool(got)


def run_is_locked(dag_run_id: int) -> bool:
    """True while some process executes this DAG run in-process."""
    with run_lock(dag_run_id) as got:
        return not got


UNFINISHED_TASK_STATES = ("running", "queued", "scheduled")
DATABASE_PATIENCE_S = 300.0  # how long an executor waits for a metadata database that restarts


def wait_for_database(what: str, patience: float = DATABASE_PATIENCE_S) -> None:
    """Wait until Airflow's metadata database answers again (a restart), or raise after `patience` seconds."""
    from airflow import settings
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    log.warning("%s: the metadata database is unreachable; waiting up to %.0f s for it", what, patience)
    deadline = time.monotonic() + patience
    while True:
        try:
            with settings.engine.connect() as conn:
                conn.execute(text("select 1"))
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def _restart_unfinished_tasks(dag_run, session) -> None:
    """Tasks this process no longer executes (its executor was killed, or the database restarted under them)
    start again; nothing else executes this run (its lock says so)."""
    for ti in dag_run.get_task_instances(session=session):
        if ti.state in UNFINISHED_TASK_STATES:
            ti.state = None
    session.commit()


def execute_run(dag_id: str, run_id: str) -> str:
    """Execute one existing DAG run in this process (queued, or orphaned by a killed executor); its final state.
    A metadata database that restarts meanwhile is waited for, and the interrupted tasks run again."""
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.sdk import timezone
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError

    from elt.dbt import forget_adapter_flags

    dag = load_dag(dag_id)
    with create_session() as session:
        dag_run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if dag_run is None:
            raise KeyError(f"{dag_id} has no run {run_id!r}")
        with run_lock(dag_run.id) as got:
            if not got:
                raise RuntimeError(f"{dag_id} {run_id} is being executed by another process")
            if dag_run.state not in (DagRunState.QUEUED, DagRunState.RUNNING):
                return str(dag_run.state)
            dag_run.dag = DBDagBag().get_dag_for_run(dag_run=dag_run, session=session)
            _restart_unfinished_tasks(dag_run, session)
            dag_run.state, dag_run.start_date, dag_run.end_date = DagRunState.RUNNING, timezone.utcnow(), None
            session.commit()
            log.info("executing %s %s (partition %s)", dag_id, run_id, dag_run.data_interval_start.date())
            while dag_run.state == DagRunState.RUNNING:
                try:
                    session.expire_all()
                    schedulable, _ = dag_run.update_state(session=session)
                    for ti in schedulable:
                        if ti.state != TaskInstanceState.UP_FOR_RESCHEDULE:
                            ti.try_number += 1
                        ti.state, ti.scheduled_dttm = TaskInstanceState.SCHEDULED, timezone.utcnow()
                    session.commit()
                    scheduled = [
                        ti
                        for ti in dag_run.get_task_instances(session=session)
                        if ti.state == TaskInstanceState.SCHEDULED
                    ]
                    if not scheduled and dag_run.state == DagRunState.RUNNING:
                        time.sleep(1)  # a task waits for its retry delay
                    for ti in scheduled:
                        forget_adapter_flags()
                        _run_task(ti=ti, task=dag.task_dict[ti.task_id], run_triggerer=True)
                except OperationalError:
                    session.rollback()
                    wait_for_database(f"{dag_id} {run_id}")
                    _restart_unfinished_tasks(dag_run, session)
            return str(dag_run.state)


@contextmanager
def _output_to(path: str) -> Iterator[None]:
    """Send this process's stdout and stderr (Airflow's logs among them) to `path` for a while."""
    sys.stdout.flush(), sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "w") as target:
        os.dup2(target.fileno(), 1), os.dup2(target.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])


def fail_run(dag_id: str, run_id: str) -> None:
    """Mark a run failed when its executor could not run it (the error is in its log)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is not None and run.state not in (DagRunState.SUCCESS, DagRunState.FAILED):
            run.set_state(DagRunState.FAILED)


def _warm_execution_api() -> None:
    """Build the in-process execution API that tasks report to: its first request takes seconds otherwise."""
    import httpx
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    with httpx.Client(transport=in_process_api_server().transport, base_url="http://in-process.invalid.") as client:
        client.get("/health").raise_for_status()


def _validates(dag: DAG) -> bool:
    """Whether a task of `dag` validates with GX (elt.tasks.validate): GX's import takes 2.5 s of a worker's start,
    which a DAG without one (customer_segments_weekly) need not wait for."""
    from elt.tasks import validate

    return any(getattr(task, "python_callable", None) is validate.function for task in dag.tasks)


def main() -> None:
    """`elt-runner [DAG_ID ...]`: a worker of an in-process backfill. It executes the runs named on stdin, one line
    each (`DAG_ID<tab>RUN_ID<tab>LOG_PATH`), writing Airflow's output for each run into its LOG_PATH. The DAG ids
    given are parsed before the first run (any other DAG, when a run of it comes)."""
    airflow_env.apply()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # import Airflow, Cosmos, the DAGs, dbt and (if a run will validate) GX while the caller creates the backfill
    dags = [load_dag(dag_id) for dag_id in sys.argv[1:]]
    import dbt.cli.main  # noqa: F401

    if not dags or any(_validates(dag) for dag in dags):
        import great_expectations  # noqa: F401

    from elt.dbt import forget_adapter_flags
    from elt.execution_api import serve_newest_version_only

    forget_adapter_flags()  # dbt's defaults as they are before any dbt command

    serve_newest_version_only()
    _warm_execution_api()
    # what is loaded now lives as long as the process: Cosmos's gc.collect() after each dbt command skips it
    gc.freeze()

    for line in sys.stdin:
        dag_id, run_id, log_path = line.rstrip("\n").split("\t")
        with _output_to(log_path):
            try:
                execute_run(dag_id, run_id)
            except Exception:
                log.exception("could not execute %s %s", dag_id, run_id)
                fail_run(dag_id, run_id)
    _stop_listeners()
    # every run is committed and its log closed: skip the interpreter's teardown (seconds of dbt and GX clean-up)
    sys.stdout.flush(), sys.stderr.flush()
    os._exit(0)


def _stop_listeners() -> None:
    """Tell Airflow's listeners this process stops, as the scheduler does: OpenLineage sends DAG-run events from a
    process pool, whose processes would otherwise wait forever after the worker is gone (one per backfill)."""
    from airflow.listeners.listener import get_listener_manager

    get_listener_manager().hook.before_stopping(component=sys.modules[__name__])


if __name__ == "__main__":
    main()
