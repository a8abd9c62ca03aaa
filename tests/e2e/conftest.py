"""End-to-end fixtures: the `elt` command in a subprocess, against the test's own warehouse, landing zone and
Airflow metadata database (a copy of one migrated once per test worker)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest

from elt import runner, warehouse
from elt.warehouse import ServerParams, create_database

AIRFLOW = str(Path(sys.executable).parent / "airflow")


@pytest.fixture(scope="session")
def airflow_template(pg_server: ServerParams, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An Airflow metadata database migrated once per test worker, copied for each test."""
    name = f"airflow_template_{uuid.uuid4().hex[:8]}"
    create_database(pg_server, name)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow_template")),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_server.database(name).sqlalchemy_url(),
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    return name


@pytest.fixture
def airflow_db(pg_server: ServerParams, airflow_template: str) -> Iterator[ServerParams]:
    """The test's own Airflow metadata database: no run of another test is in it."""
    params = pg_server.database(f"airflow_{uuid.uuid4().hex[:12]}")
    admin = pg_server.database("postgres").libpq_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{params.dbname}" template "{airflow_template}"')
    yield params
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{params.dbname}" with (force)')


@pytest.fixture
def elt_env(warehouse_params: ServerParams, landing: Path, airflow_db: ServerParams, tmp_path: Path) -> dict[str, str]:
    """The environment of `elt` for the test: its warehouse, landing zone, state folder and Airflow database."""
    env = {
        **os.environ,
        "ELT_WAREHOUSE_URL": warehouse_params.libpq_url(),
        "ELT_LANDING_DIR": str(landing),
        "ELT_STATE_DIR": str(tmp_path / "state"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db.sqlalchemy_url(),
        "ELT_RETRY_DELAY_SECONDS": "2",
    }
    env.pop("AIRFLOW_CONN_WAREHOUSE", None)
    runner.mark_migrated(env)
    return env


@pytest.fixture
def elt(elt_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess]:
    """Run `elt ARGS...` against the test's warehouse and landing zone; the completed process is returned."""

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "elt"), *args]
        result = subprocess.run(command, env=elt_env, capture_output=True, text=True, timeout=900)
        left = runner_processes(elt_env["ELT_STATE_DIR"])
        assert not left, f"`elt {' '.join(args)}` left worker processes behind: {left}"
        return result

    return run


def runner_processes(state_dir: str) -> list[int]:
    """Processes of `elt-runner` (or forked from one) working for the state folder `state_dir`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):  # not a process, or gone meanwhile
            continue
        if b"elt-runner" in cmdline and f"ELT_STATE_DIR={state_dir}".encode() in environ:
            found.append(int(proc.name))
    return found


@pytest.fixture
def another_elt_env(
    elt_env: dict[str, str], pg_server: ServerParams, airflow_template: str
) -> Callable[[ServerParams, Path], AbstractContextManager[tuple[ServerParams, dict[str, str]]]]:
    """Makes a second warehouse (on a given server) and Airflow database for `elt`, with the test's landing zone
    and its state under a given folder; both databases are dropped when the `with` ends."""

    @contextmanager
    def make(warehouse_server: ServerParams, folder: Path) -> Iterator[tuple[ServerParams, dict[str, str]]]:
        params = warehouse_server.database(f"test_{uuid.uuid4().hex[:12]}")
        warehouse.bootstrap(params)
        airflow_db = pg_server.database(f"airflow_{uuid.uuid4().hex[:12]}")
        with warehouse.connect(pg_server.database("postgres"), autocommit=True) as conn:
            conn.execute(f'create database "{airflow_db.dbname}" template "{airflow_template}"')
        env = {
            **elt_env,
            "ELT_WAREHOUSE_URL": params.libpq_url(),
            "ELT_STATE_DIR": str(folder / "state"),
            "AIRFLOW_HOME": str(folder / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db.sqlalchemy_url(),
        }
        runner.mark_migrated(env)
        try:
            yield params, env
        finally:
            for server, name in ((pg_server, airflow_db.dbname), (warehouse_server, params.dbname)):
                with warehouse.connect(server.database("postgres"), autocommit=True) as conn:
                    conn.execute(f'drop database if exists "{name}" with (force)')

    return make
