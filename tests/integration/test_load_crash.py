"""A load killed mid-COPY, or a Postgres restart during a load, leaves the partition as it was; the next load
equals a clean one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from elt import localdb, warehouse
from elt.generate.vouchers import write_voucher_file
from elt.load import LoadError, load_partition
from elt.warehouse import ServerParams

DAY = date(2024, 2, 1)
BIG_ROWS = 1_000_000  # a COPY of a few seconds


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,000,000-row voucher CSV (about 70 MB), written once for the module."""
    return write_voucher_file(
        tmp_path_factory.mktemp("big") / "vouchers.csv", BIG_ROWS, seed=3, day=DAY, file_format="csv"
    )


def land(landing: Path, source: Path | None, rows: int = 0) -> None:
    """Land `source` (or a small generated file) as the partition's only file."""
    path = landing / "vouchers" / DAY.isoformat() / "vouchers.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if source is None:
        write_voucher_file(path, rows, seed=5, day=DAY, file_format="csv")
    else:
        shutil.copyfile(source, path)


def checksum(params: ServerParams, lineage: bool = True) -> tuple:
    """Rows of the partition and a hash of all of them (with batch and load time, or only what a clean load
    would give the same)."""
    extra = ", _batch_id, _loaded_at" if lineage else ""
    with warehouse.connect(params) as conn:
        return conn.execute(
            "select count(*), coalesce(sum(hashtextextended(row(timestamp, country_code, last_order_ts,"
            f" first_order_ts, total_orders, voucher_amount, _source_file, _source_row, _partition_date{extra})::text,"
            " 0)::numeric), 0) from raw_vouchers.voucher_assignments where _partition_date = %s",
            (DAY,),
        ).fetchone()


def load_log(params: ServerParams) -> list[tuple]:
    with warehouse.connect(params) as conn:
        return conn.execute("select * from audit.load_log order by batch_id, file_path").fetchall()


def wait_for_copy(params: ServerParams, alive: Callable[[], bool], timeout: float = 120) -> int:
    """Wait until the loader's COPY has passed 100,000 rows; its backend's pid."""
    deadline = time.monotonic() + timeout
    with warehouse.connect(params, autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert alive(), "the load ended before its COPY was seen"
            row = conn.execute(
                "select p.pid from pg_stat_progress_copy p join pg_stat_activity a on a.pid = p.pid"
                " where p.datname = current_database() and a.application_name like 'elt load %%'"
                " and p.tuples_processed > 100000"
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.02)
    raise AssertionError("no COPY of the loader showed up in pg_stat_progress_copy")


@pytest.fixture
def clean_load(pg_server: ServerParams, tmp_path: Path) -> Iterator[Callable[[Path, ServerParams], tuple]]:
    """The checksum of a clean load of a landing zone into a new warehouse database on a given server."""
    created: list[ServerParams] = []

    def run(landing: Path, server: ServerParams) -> tuple:
        params = server.database(f"clean_{uuid.uuid4().hex[:12]}")
        created.append(params)
        warehouse.bootstrap(params)
        load_partition("vouchers", DAY, landing, params)
        return checksum(params, lineage=False)

    yield run
    for params in created:
        try:
            with psycopg.connect(params.database("postgres").libpq_url(), autocommit=True) as conn:
                conn.execute(f'drop database if exists "{params.dbname}" with (force)')
        except psycopg.OperationalError:
            pass  # its server is stopped already


def test_a_load_killed_mid_copy_leaves_the_partition_as_it_was(
    landing: Path, warehouse_params: ServerParams, big_file: Path, pg_server: ServerParams, clean_load
) -> None:
    land(landing, None, rows=500)
    load_partition("vouchers", DAY)
    before, log_before = checksum(warehouse_params), load_log(warehouse_params)
    assert before[0] == 500

    land(landing, big_file)
    code = "import datetime; from elt.load import load_partition as load; load('vouchers', datetime.date(2024, 2, 1))"
    loader = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ))
    try:
        backend = wait_for_copy(warehouse_params, lambda: loader.poll() is None)
        loader.send_signal(signal.SIGKILL)
        loader.wait(30)
    finally:
        if loader.poll() is None:
            loader.kill()
    with warehouse.connect(warehouse_params, autocommit=True) as conn:  # its server process notices and goes
        deadline = time.monotonic() + 60
        while conn.execute("select 1 from pg_stat_activity where pid = %s", (backend,)).fetchone():
            assert time.monotonic() < deadline, "the killed loader's backend is still there"
            time.sleep(0.05)

    assert checksum(warehouse_params) == before, "the partition is exactly as it was"
    assert load_log(warehouse_params) == log_before, "a killed load writes nothing"

    [result] = load_partition("vouchers", DAY)
    assert result.rows == BIG_ROWS
    assert checksum(warehouse_params, lineage=False) == clean_load(landing, pg_server)


def test_a_postgres_restart_during_a_load_fails_it_as_transient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, big_file: Path, clean_load
) -> None:
    pg_dir = tmp_path / "pg"
    params = localdb.start(pg_dir)  # a server of its own: this test restarts it
    try:
        warehouse.bootstrap(params)
        landing = tmp_path / "landing"
        monkeypatch.setenv("ELT_WAREHOUSE_URL", params.libpq_url())
        monkeypatch.setenv("ELT_LANDING_DIR", str(landing))
        land(landing, None, rows=500)
        load_partition("vouchers", DAY)
        before, log_before = checksum(params), load_log(params)

        land(landing, big_file)
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                load_partition("vouchers", DAY)
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                outcome.append(exc)

        loader = threading.Thread(target=run)
        loader.start()
        wait_for_copy(params, loader.is_alive)
        localdb.stop(pg_dir)  # fast shutdown: the loader's backend is terminated mid-COPY
        clock = time.monotonic()
        loader.join(60)
        assert not loader.is_alive()
        params = localdb.start(pg_dir)
        [error] = outcome
        assert isinstance(error, LoadError), error
        assert error.transient, str(error)
        assert "raw_vouchers.voucher_assignments 2024-02-01" in str(error), str(error)
        assert "connection to the warehouse lost" in str(error) or "server shutdown" in str(error), str(error)
        assert time.monotonic() - clock < 30, "the failed-row write did not hang on the gone server"

        assert checksum(params) == before, "the partition is exactly as it was"
        assert load_log(params)[: len(log_before)] == log_before
        assert all(row[9] == "failed" for row in load_log(params)[len(log_before) :])

        [result] = load_partition("vouchers", DAY)
        assert result.rows == BIG_ROWS
        assert checksum(params, lineage=False) == clean_load(landing, params)
    finally:
        localdb.stop(pg_dir)
