"""Shared fixtures: a throwaway Postgres server per test session and a fresh warehouse per test; the outcome table of
the bad-input corpus (here, not next to it: under xdist only this conftest is loaded by the controller)."""

from __future__ import annotations

import itertools
import json
import os
import re
import select
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from elt import config, localdb, warehouse
from elt.config import DBT_PROJECT_DIR, PROJECT_DIR
from elt.load import load_partition
from elt.quality import validate_table
from elt.sources import SOURCES, Source, get_source
from elt.warehouse import ServerParams, create_database

# Hermetic tests: neither the shell's project settings nor the project's `.env` change what a test sees (a user's
# ELECTRONICS_TIMEZONE would move sale hours, STORE_ORDERS_CITY_TIERS the city tiers; Airflow settings, its ports).
# Subprocesses inherit this environment.
_PROJECT_SETTINGS = ("ELT_", "ELECTRONICS_", "STORE_ORDERS_", "AIRFLOW_HOME", "AIRFLOW__")
for _name in [name for name in os.environ if name.startswith(_PROJECT_SETTINGS)]:
    del os.environ[_name]
os.environ["ELT_ENV_FILE"] = os.devnull
config.load_env.cache_clear()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerParams]:
    """A private Postgres server (embedded), stopped at the end of the session."""
    data_dir = tmp_path_factory.mktemp("pg")
    params = localdb.start(data_dir)
    yield params
    localdb.stop(data_dir)


@pytest.fixture(scope="session")
def bootstrapped_template(pg_server: ServerParams) -> str:
    """A warehouse bootstrapped once per test worker (from an empty database), never used by a test: each test's
    warehouse is a copy of it."""
    name = f"warehouse_template_{uuid.uuid4().hex[:8]}"
    warehouse.bootstrap(pg_server.database(name))
    return name


def _create_warehouse(
    pg_server: ServerParams, template: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> ServerParams:
    """A new, bootstrapped warehouse database; the project's settings (through `monkeypatch`) point at it. It is a
    copy of the bootstrapped template (a few times cheaper than a bootstrap from scratch), bootstrapped again for what
    a copy does not carry: the grants on the database itself."""
    params = pg_server.database(f"test_{uuid.uuid4().hex[:12]}")
    with psycopg.connect(pg_server.database("postgres").libpq_url(), autocommit=True) as conn:
        conn.execute(f'create database "{params.dbname}" template "{template}"')
    warehouse.bootstrap(params)
    monkeypatch.setenv("ELT_WAREHOUSE_URL", params.libpq_url())
    monkeypatch.setenv("ELT_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("ELT_STATE_DIR", str(tmp_path / "state"))
    return params


def _drop_warehouse(pg_server: ServerParams, params: ServerParams) -> None:
    with psycopg.connect(pg_server.database("postgres").libpq_url(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{params.dbname}" with (force)')


@pytest.fixture
def warehouse_params(
    pg_server: ServerParams, bootstrapped_template: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ServerParams]:
    """A new, bootstrapped warehouse database; the project's settings point at it for the test."""
    params = _create_warehouse(pg_server, bootstrapped_template, monkeypatch, tmp_path)
    yield params
    _drop_warehouse(pg_server, params)


@dataclass(frozen=True)
class ModuleWarehouse:
    """A warehouse shared by the tests of a module, its landing zone and its dbt (see module_warehouse)."""

    params: ServerParams
    landing: Path
    run_dbt: Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def module_warehouse(
    pg_server: ServerParams,
    bootstrapped_template: str,
    dbt_forkserver: subprocess.Popen,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ModuleWarehouse]:
    """Like warehouse_params, landing and run_dbt, once for a whole module: for a costly load and build that several
    tests then read (they must leave it as they found it). The settings point at it while the module runs."""
    tmp_path = tmp_path_factory.mktemp("warehouse")
    with pytest.MonkeyPatch.context() as monkeypatch:
        params = _create_warehouse(pg_server, bootstrapped_template, monkeypatch, tmp_path)
        landing = tmp_path / "landing"
        landing.mkdir()
        yield ModuleWarehouse(params, landing, dbt_runner(params, tmp_path, dbt_forkserver))
    _drop_warehouse(pg_server, params)


DEMO_START, DEMO_DAYS = date(2024, 1, 1), 1  # a Monday: the week's customer segments too


def _pg_tool(name: str) -> str:
    """A client program of the bundled PostgreSQL (pg_dump, pg_restore), beside its psql."""
    return str(Path(localdb.psql_path()).with_name(name))


@pytest.fixture(scope="session")
def demo_warehouse(
    pg_server: ServerParams,
    bootstrapped_template: str,
    dbt_forkserver: subprocess.Popen,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerParams]:
    """A warehouse with every source's marts built from a generated day (elt.demo), for tests that only read it (the
    dashboard's). The first test worker to need it builds it and leaves a dump in the session's shared temp folder;
    the others restore that dump (seconds, not a minute of builds on a shared CPU). The settings point at it only
    while it is built."""
    import fcntl

    from elt.demo import build_demo

    tmp_path = tmp_path_factory.mktemp("demo_warehouse")
    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if os.environ.get("PYTEST_XDIST_WORKER") else shared
    dump = shared / "demo_warehouse.dump"
    with (shared / "demo_warehouse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if dump.exists():
            params = pg_server.database(f"demo_{uuid.uuid4().hex[:12]}")
            create_database(pg_server, params.dbname)
            restore = [_pg_tool("pg_restore"), "--exit-on-error", "-d", params.libpq_url(), str(dump)]
            subprocess.run(restore, check=True, capture_output=True)
            warehouse.bootstrap(params)  # what a dump does not carry: the grants on the database itself
        else:
            with pytest.MonkeyPatch.context() as monkeypatch:
                params = _create_warehouse(pg_server, bootstrapped_template, monkeypatch, tmp_path)
                build_demo(tmp_path / "landing", DEMO_START, DEMO_DAYS, dbt_runner(params, tmp_path, dbt_forkserver))
            partial = dump.with_suffix(".partial")
            subprocess.run([_pg_tool("pg_dump"), "-Fc", "-f", str(partial), params.libpq_url()], check=True)
            partial.rename(dump)
    yield params
    _drop_warehouse(pg_server, params)


@pytest.fixture
def register_source(warehouse_params: ServerParams, monkeypatch: pytest.MonkeyPatch) -> Callable[[Source], Source]:
    """Make a test-only source known for the test (get_source, load_partition) and create its raw schema and tables
    the way the warehouse bootstrap does (by running it again: it is idempotent)."""

    def register(source: Source) -> Source:
        monkeypatch.setitem(SOURCES, source.name, source)
        warehouse.bootstrap(warehouse_params)
        return source

    return register


@pytest.fixture
def landing(warehouse_params: ServerParams, tmp_path: Path) -> Path:
    """The landing zone of the test (empty)."""
    path = tmp_path / "landing"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def dbt_forkserver() -> Iterator[subprocess.Popen]:
    """tests/dbt_forkserver.py for this test worker: dbt commands without dbt's start-up."""
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "dbt_forkserver.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield server
    server.stdin.close()
    server.wait(timeout=60)


def dbt_runner(
    params: ServerParams, tmp_path: Path, forkserver: subprocess.Popen
) -> Callable[..., subprocess.CompletedProcess]:
    """Run the project's dbt against the warehouse `params`, as the `dbt` command (through the test worker's
    dbt_forkserver); target and logs stay in `tmp_path`.

    dbt parses the whole project again whenever its vars change (about 3 s of CPU), so each set of vars has a
    target folder of its own: a test that builds a date again reuses that date's parse through dbt's partial
    parsing, as Cosmos does between the tasks of one DAG run. (dbt still parses in full when the database,
    a project file or an env var that the parse read has changed.)"""
    env = {
        **os.environ,
        "ELT_PG_HOST": params.host,
        "ELT_PG_PORT": str(params.port),
        "ELT_PG_USER": "elt_transformer",  # dbt runs as its login role, as in Airflow
        "ELT_PG_PASSWORD": "",
        "ELT_PG_DATABASE": params.dbname,
        **params.libpq_env(),  # the options (TimeZone=UTC among them), as Cosmos gives them to dbt
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_PARTIAL_PARSE": "True",
    }
    calls = itertools.count(1)

    def run(
        *args: str, vars: str | None = None, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        args = (*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR))
        if vars is not None:
            args += ("--vars", vars)
        target = tmp_path / "target" / (re.sub(r"\W+", "_", vars).strip("_") if vars else "no_vars")
        output = tmp_path / "dbt_output" / str(next(calls))
        output.mkdir(parents=True)
        request = {
            "args": args,
            "env": {**env, "DBT_TARGET_PATH": str(target), **(extra_env or {})},
            "cwd": str(PROJECT_DIR),
            "stdout": str(output / "stdout.txt"),
            "stderr": str(output / "stderr.txt"),
        }
        forkserver.stdin.write(json.dumps(request) + "\n")
        forkserver.stdin.flush()
        if not select.select([forkserver.stdout], [], [], 600)[0]:
            forkserver.kill()  # its answer would come to the next command
            raise subprocess.TimeoutExpired(["dbt", *args], 600)
        answer = forkserver.stdout.readline()
        assert answer, "tests/dbt_forkserver.py stopped"
        code = int(answer)
        return subprocess.CompletedProcess(
            ["dbt", *args], code, (output / "stdout.txt").read_text(), (output / "stderr.txt").read_text()
        )

    return run


@pytest.fixture
def run_dbt(
    warehouse_params: ServerParams, tmp_path: Path, dbt_forkserver: subprocess.Popen
) -> Callable[..., subprocess.CompletedProcess]:
    """Run the project's dbt against the test's warehouse; target and logs stay in the test's temp folder."""
    return dbt_runner(warehouse_params, tmp_path, dbt_forkserver)


@pytest.fixture
def run_partition(landing: Path, run_dbt: Callable[..., subprocess.CompletedProcess]) -> Callable[..., None]:
    """What a source's daily DAG does for a partition, below Airflow: load the landed files, validate each table, dbt
    build of the source's tag. (The validation task would also fail over a suite's error share, which a hand-made
    file may exceed: only the validation itself is run.)"""

    def run(source_name: str, day: date, extra_env: dict[str, str] | None = None) -> None:
        load_partition(source_name, day, landing)
        source = get_source(source_name)
        for table in source.tables:
            validate_table(source, table, day)
        dates = f"{{run_date: '{day}', data_interval_end: '{day + timedelta(days=1)}'}}"
        result = run_dbt("build", "--select", f"tag:{source_name}", vars=dates, extra_env=extra_env)
        assert result.returncode == 0, result.stdout[-5000:]

    return run


# -- order: the slowest files first -------------------------------------------------------------------------------
# Their tests take minutes each (slowest first, as measured with 2 workers on the 2-core machine). Started first,
# they leave the short tests to even out the workers' ends, instead of one worker finishing a long test alone while
# the other idles (`make test` lost about 2 minutes so). Order only: every other test keeps its collection order.
SLOWEST_FILES = (
    # first, so that their tests stay together on one worker and share one build of the module's days (worksteal
    # hands each worker a contiguous run of tests and steals from the end of a run)
    "integration/test_dbt_store_orders.py",
    "integration/test_dbt_subscriptions.py",
    "e2e/test_airflow_scheduler.py",
    "e2e/test_thelook.py",
    "e2e/test_vouchers_daily.py",
    "e2e/test_concurrent_backfill.py",
    "e2e/test_restart.py",
    "e2e/test_history.py",
    "e2e/test_time_zone.py",
    "e2e/test_store_orders_daily.py",
    "e2e/test_subscriptions_daily.py",
    "integration/test_dbt_concurrency.py",
    "integration/test_dbt_electronics.py",
    "integration/test_customer_segments.py",
    # each builds the demo warehouse (every source's marts from a generated day) once on its worker
    "e2e/test_dashboard_browser.py",
    "integration/test_dashboard_pages.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = os.path.relpath(item.path, Path(__file__).parent)
        return SLOWEST_FILES.index(path) if path in SLOWEST_FILES else len(SLOWEST_FILES)

    items.sort(key=rank)  # stable: the order within a file, and of the other files, stays


# -- the outcome table of the bad-input corpus (tests/integration/test_bad_inputs.py), printed at the end ----------
OUTCOMES: list[tuple[str, str, str, str]] = []
MESSAGE_CHARS = 110


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Runs in the controller for xdist workers' reports too: user_properties travel with the report."""
    if report.when != "call":
        return
    for key, value in report.user_properties:
        if key == "bad_input":
            OUTCOMES.append(tuple(value))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not OUTCOMES:
        return
    order = {"csv": 0, "csv.gz": 1, "parquet": 2, "xlsx": 3, "json": 4, "landing": 5}
    rows = sorted(OUTCOMES, key=lambda r: (order.get(r[1], 6), r[0]))
    widths = [max(len(r[i]) for r in [("case", "format", "outcome"), *rows]) for i in range(3)]
    write = terminalreporter.write_line
    terminalreporter.section(f"what happens to a bad file ({len(rows)} cases)")
    write(f"{'case':<{widths[0]}}  {'format':<{widths[1]}}  {'outcome':<{widths[2]}}  message")
    for case, fmt, outcome, message in rows:
        write(f"{case:<{widths[0]}}  {fmt:<{widths[1]}}  {outcome:<{widths[2]}}  {_short(message)}")
