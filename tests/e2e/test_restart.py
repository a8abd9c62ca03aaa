"""A Postgres restart in the middle of a run: the load fails as transient, its partition stays as it was, Airflow
retries it and the run ends with the warehouse of a run that was never interrupted."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg

from elt import localdb, runner, warehouse
from elt.checksums import checksums
from elt.generate import generate
from elt.warehouse import ServerParams

DAY = date(2021, 5, 3)
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def _restart_when_loading(server_dir: Path, params: ServerParams, restarted: list[float]) -> None:
    """Restart the server as soon as a loader connection is at work (fast shutdown: every session is cut)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(params.database("postgres").libpq_url(), autocommit=True) as conn:
                busy = conn.execute(
                    "select count(*) from pg_stat_activity where application_name like 'elt load%%'"
                    " and state = 'active'"
                ).fetchone()[0]
        except psycopg.OperationalError:
            busy = 0
        if busy:
            localdb.stop(server_dir)
            localdb.start(server_dir)
            restarted.append(time.monotonic())
            return
        time.sleep(0.02)


def test_a_postgres_restart_mid_run_is_retried_and_changes_nothing(
    elt: Callable[..., subprocess.CompletedProcess],
    elt_env: dict[str, str],
    landing: Path,
    warehouse_params: ServerParams,
    tmp_path: Path,
) -> None:
    generate("vouchers", landing, DAY, 1, seed=9, rows_per_day=150_000)
    clean = elt("run", "vouchers_daily", "--date", DAY.isoformat())  # the reference, on the shared test server
    assert clean.returncode == 0, clean.stdout[-2000:] + clean.stderr[-2000:]

    server_dir = tmp_path / "pg"  # a server of the test's own, so restarting it disturbs no other test
    server = localdb.start(server_dir)
    target = server.database("warehouse")
    warehouse.bootstrap(target)
    env = {
        **elt_env,
        "ELT_WAREHOUSE_URL": target.libpq_url(),
        "ELT_STATE_DIR": str(tmp_path / "state_restart"),
        "AIRFLOW_HOME": str(tmp_path / "airflow_restart"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": server.database("airflow").sqlalchemy_url(),
    }
    try:
        subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
        runner.mark_migrated(env)
        restarted: list[float] = []
        watcher = threading.Thread(target=_restart_when_loading, args=(server_dir, target, restarted), daemon=True)
        watcher.start()
        result = subprocess.run(
            [str(Path(sys.executable).parent / "elt"), "run", "vouchers_daily", "--date", DAY.isoformat()],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        watcher.join(timeout=60)
        assert restarted, "the server was restarted during the load"
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        with warehouse.connect(target) as conn:
            statuses = [row[0] for row in conn.execute("select status from audit.load_log order by batch_id")]
        assert statuses[-1] == "loaded" and statuses.count("loaded") == 1
        assert checksums(target) == checksums(warehouse_params)
    finally:
        localdb.stop(server_dir)
