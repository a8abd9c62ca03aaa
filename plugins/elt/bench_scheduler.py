"""`make bench`'s run under the scheduler: `elt airflow` (LocalExecutor) started as users start it, stopped as a
service manager stops it (SIGTERM), and nothing of it left running."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from elt import warehouse
from elt.serve.running import ELT, free_port, stop_group


def _wait(condition, seconds: float, what: str, process: subprocess.Popen) -> None:
    """Until `condition()` is true; RuntimeError after `seconds` or when `process` ends."""
    deadline = time.monotonic() + seconds
    while not _true(condition):
        if process.poll() is not None:
            raise RuntimeError(f"`elt airflow` exited ({process.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(1)


def _true(condition) -> bool:
    try:
        return bool(condition())
    except (httpx.HTTPError, ValueError, KeyError):
        return False


def _scheduled_run_state(airflow_db: warehouse.ServerParams, dag_id: str) -> str | None:
    """The state of the DAG's latest scheduled run (the scheduler makes one when the DAG is unpaused), if any."""
    with warehouse.connect(airflow_db) as conn:
        found = conn.execute(
            "select state from dag_run where dag_id = %s and run_type = 'scheduled' order by id desc limit 1", (dag_id,)
        ).fetchone()
    return found[0] if found else None


@contextmanager
def airflow_running(
    env: dict[str, str], log_path: Path, airflow_db: warehouse.ServerParams, dag_id: str
) -> Iterator[dict[str, str]]:
    """`elt airflow` on free ports with only `dag_id` unpaused, once its scheduler heartbeats and the run the
    scheduler makes of the latest interval on unpausing is over (so a timed run has the machine to itself); the
    environment to run `elt` in. Afterwards `elt airflow` is stopped by SIGTERM, and any process of it left is
    killed and reported (RuntimeError)."""
    port = free_port()
    env = {
        **env,
        # the log servers of the scheduler and triggerer: another Airflow on this machine may hold 8793/8794
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        # the other DAGs' latest intervals would run beside the timed run
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }
    base = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [ELT, "airflow", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            healthy = lambda: httpx.get(f"{base}/api/v2/monitor/health", timeout=5).json()["scheduler"]["status"]  # noqa: E731
            _wait(lambda: healthy() == "healthy", 180, "the scheduler's heartbeat", process)
            httpx.patch(f"{base}/api/v2/dags/{dag_id}", json={"is_paused": False}, timeout=30).raise_for_status()
            clock = time.monotonic()
            while _scheduled_run_state(airflow_db, dag_id) is None and time.monotonic() - clock < 30:
                time.sleep(1)
            _wait(lambda: _scheduled_run_state(airflow_db, dag_id) in (None, "success", "failed"), 600,
                  "the latest interval's scheduled run", process)  # fmt: skip
            print(f"  scheduler ready after {time.monotonic() - clock:.0f} s more (the latest interval's run)")
            yield env
        finally:
            left = stop_group(process)
    if left:
        raise RuntimeError(f"`elt airflow` stopped by SIGTERM left processes running (killed): {left}")
    print("  elt airflow stopped; no process of it left", flush=True)
