"""Every bad input gets its one outcome, against a real Postgres: a failed partition that commits nothing, a load
(with exceptions recorded by validation), a skipped entry or a duplicate, each with a message naming the file.

Each case runs in a partition that already holds an earlier load (so "nothing committed" is visible) next to a
neighbour partition (which must stay untouched). `make test` prints the outcome table at the end.
"""

from __future__ import annotations

import logging
import os
import posixpath
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest
from bad_input_corpus import (
    CASES,
    DAY,
    HEADER,
    NEIGHBOUR,
    SHOP,
    SHOP_HEADER,
    TL_HEADER,
    Case,
    row,
    rows,
    shop_rows,
    tl_rows,
)

from elt import warehouse
from elt.load import LoadError, load_partition
from elt.warehouse import ServerParams

LABELS = {
    "failed": "FAILS",
    "loaded": "LOADS",
    "exceptions": "LOADS, bad rows to dq_exceptions",
    "skipped": "SKIPPED",
    "duplicate": "DUPLICATE",
}
SETUP = {  # source -> (raw table, file name prefix, header, rows(count, start), rows a reload keeps)
    "vouchers": ("raw_vouchers.voucher_assignments", "", HEADER, rows, 0),  # a partition is replaced
    "thelook": ("raw_thelook.distribution_centers", "distribution_centers_", TL_HEADER, tl_rows, 1),  # upserted
    "shop": ("raw_shop.orders", "", SHOP_HEADER, shop_rows, 0),  # a source of the tests only (XLSX and JSON)
}
TEST_SOURCES = {"shop": SHOP}


def record(request: pytest.FixtureRequest, case: str, fmt: str, outcome: str, message: str) -> None:
    """One line of the outcome table that `make test` prints (tests/conftest.py collects it, also under xdist)."""
    request.node.user_properties.append(("bad_input", (case, fmt, outcome, message)))


def table_rows(table: str, day: date | None = None) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            f"select * from {table} where %(day)s::date is null or _partition_date = %(day)s"
            " order by _partition_date, _source_file, _source_row",
            {"day": day},
        ).fetchall()


def column_values(table: str, column: str, day: date) -> set[str]:
    with warehouse.connect() as conn:
        found = conn.execute(f'select "{column}" from {table} where _partition_date = %s', (day,)).fetchall()
    return {value for (value,) in found}


def log_rows(since_batch: int) -> list[tuple]:
    """load_log rows after `since_batch`: (table_name, file_path, status, rows_loaded, error)."""
    with warehouse.connect() as conn:
        return conn.execute(
            "select table_name, file_path, status, rows_loaded, error from audit.load_log"
            " where batch_id > %s order by batch_id, file_path",
            (since_batch,),
        ).fetchall()


def last_batch() -> int:
    with warehouse.connect() as conn:
        return conn.execute("select coalesce(max(batch_id), 0) from audit.load_log").fetchone()[0]


def land(landing: Path, source: str, day: date, name: str, content: str | bytes) -> Path:
    folder = landing / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def prepare(landing: Path, source: str) -> tuple[Path, list[tuple]]:
    """The neighbour partition loaded; DAY loaded once (its rows are what a failure must leave), then only a good
    file `aaa` left in DAY. Returns DAY's folder and the table's rows."""
    table, prefix, header, make_rows, _ = SETUP[source]
    land(landing, source, NEIGHBOUR, f"{prefix}neighbour.csv", header + make_rows(2, 10))
    load_partition(source, NEIGHBOUR)
    old = land(landing, source, DAY, f"{prefix}old.csv", header + make_rows(1, 20))
    load_partition(source, DAY)
    old.unlink()
    land(landing, source, DAY, f"{prefix}aaa.csv", header + make_rows(2, 30))
    return landing / source / DAY.isoformat(), table_rows(table)


def shown(case: Case, entry: str) -> str:
    return posixpath.normpath(f"{case.source}/{DAY}/{entry}")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_has_its_one_outcome(
    case: Case, landing: Path, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    table = SETUP[case.source][0]
    if case.source in TEST_SOURCES:
        request.getfixturevalue("register_source")(TEST_SOURCES[case.source])
    folder, before = prepare(landing, case.source)
    neighbour_before = table_rows(table, NEIGHBOUR)
    day_before = table_rows(table, DAY)
    since = last_batch()
    entry = shown(case, case.build(folder, landing))
    caplog.set_level(logging.WARNING)
    clock = time.monotonic()
    try:
        load_partition(case.source, DAY)
        error = None
    except LoadError as exc:
        error = str(exc)
    seconds = time.monotonic() - clock
    logged = log_rows(since)
    mine = [r for r in logged if r[1] == entry]
    if case.outcome == "failed" or not mine:
        message = error or ""
    elif mine[0][2] == "loaded":
        count = mine[0][3]
        message = f"{count:,} row{'' if count == 1 else 's'} loaded" + (f"; {mine[0][4]}" if mine[0][4] else "")
        message += "".join(f"; {column} {value!r}" for column, value in case.values.items())
    else:
        message = f"{entry}: {mine[0][4]}"
    if case.outcome == "exceptions":
        message += f"; validation records {', '.join(case.rules)}"
    record(request, case.name, case.fmt, LABELS[case.outcome], message)

    assert table_rows(table, NEIGHBOUR) == neighbour_before, "the neighbour partition is untouched"
    assert seconds < 60, f"bounded: {seconds:.1f} s"
    if case.outcome == "failed":
        assert error is not None, f"{case.name}: expected a failure, got {logged}"
        assert error.startswith(entry + ":"), error
        for fragment in case.expect:
            assert fragment in error, error
        assert "Traceback" not in error and "Error:" not in error, "no raw exception text"
        assert [(r[0], r[2], r[4]) for r in logged if r[0] == case.table] == [(case.table, "failed", error)], logged
        assert table_rows(table) == before, "nothing committed"
        return
    assert error is None, error
    assert mine, f"no load_log row for {entry}: {logged}"
    [(table_name, _, status, rows_loaded, note)] = mine
    assert (table_name, status) == (case.table, "loaded" if case.outcome == "exceptions" else case.outcome)
    for fragment in case.expect:
        assert fragment in (note or ""), note
    day_rows = table_rows(table, DAY)
    if case.outcome in ("loaded", "exceptions"):
        assert rows_loaded == case.rows
    else:
        assert rows_loaded == 0
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(w.startswith(entry) and case.expect[0] in w for w in warnings), warnings
    kept = SETUP[case.source][4]
    assert len(day_rows) == kept + 2 + case.rows, "the good file and the case's rows, nothing else"
    assert day_rows != day_before
    for column, value in case.values.items():
        assert value in column_values(table, column, DAY)
    if case.outcome == "exceptions":
        from elt.quality import validate_partition

        validate_partition(case.source, DAY)
        with warehouse.connect() as conn:
            rules = {
                r
                for (r,) in conn.execute(
                    "select rule from audit.dq_exceptions where partition_date = %s and source_file = %s", (DAY, entry)
                )
            }
        assert set(case.rules) <= rules, rules


def test_the_corpus_covers_every_kind() -> None:
    assert len(CASES) >= 40
    assert {case.fmt for case in CASES} >= {"csv", "csv.gz", "parquet", "xlsx", "json", "landing"}
    assert {case.outcome for case in CASES} == set(LABELS)
    assert sum(case.issue for case in CASES) == 5


# -- bounded memory ----------------------------------------------------------------------------------------------

MEASURE = """
import resource, sys, time
from datetime import date
from elt.load import LoadError, load_partition


def read_bytes():
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar")).split()[1])


before, read_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, read_bytes()
clock = time.monotonic()
try:
    load_partition("vouchers", date.fromisoformat(sys.argv[1]))
    print("loaded")
except LoadError as exc:
    print(exc)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grown // 1024, (read_bytes() - read_before) // 2**20, round(time.monotonic() - clock, 1))
"""
BIG = ["a file of 200 MB without any line end", "a line of 200 MB, no line end", "gzip bomb (2 GiB, one line)"]


@pytest.mark.parametrize("name", BIG)
def test_gigantic_input_fails_early_in_bounded_memory(
    name: str, landing: Path, warehouse_params: ServerParams, request: pytest.FixtureRequest
) -> None:
    """The load stops parsing soon after the limit: peak memory (RSS) and time stay small, and the bytes read
    (rchar; for gzip the compressed bytes) are the sha256 pass plus little more, in a process of its own."""
    [case] = [c for c in CASES if c.name == name]
    folder = landing / "vouchers" / DAY.isoformat()
    entry = shown(case, case.build(folder, landing))
    size = (folder / Path(entry).name).stat().st_size
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, DAY.isoformat()], capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert result.returncode == 0, result.stderr
    message, usage = result.stdout.strip().splitlines()
    grown_mib, read_mib, seconds = usage.split()
    summary = f"file {size / 2**20:,.0f} MiB: peak RSS +{grown_mib} MiB, read {read_mib} MiB, {seconds} s"
    record(request, f"{name} (bounded)", case.fmt, "FAILS", f"{summary}: {message}")
    assert message.startswith(entry) and case.expect[0] in message, message
    assert int(grown_mib) < 100, summary
    # one streaming pass over the file for its sha256 (duplicates), then the parse stops soon after the limit
    assert int(read_mib) < size / 2**20 + 40, summary
    assert float(seconds) < 30, summary


# -- duplicates across partitions and runs ----------------------------------------------------------------------


def test_a_rerun_is_not_a_duplicate_of_itself(landing: Path, request: pytest.FixtureRequest) -> None:
    land(landing, "vouchers", DAY, "v.csv", HEADER + rows(3, 400))
    load_partition("vouchers", DAY)
    first = table_rows("raw_vouchers.voucher_assignments")
    since = last_batch()
    [result] = load_partition("vouchers", DAY)
    assert [(f.path, f.rows) for f in result.files] == [(f"vouchers/{DAY}/v.csv", 3)] and not result.not_loaded
    assert [r[2] for r in log_rows(since)] == ["loaded"]
    again = table_rows("raw_vouchers.voucher_assignments")
    same = [r[:6] + r[7:10] for r in again] == [r[:6] + r[7:10] for r in first]
    assert same, "the same rows (in a new batch, with a new load time)"
    record(request, "re-run of a partition", "csv", "LOADS", "replaces the partition; its own files are no duplicate")


def test_a_file_no_longer_loaded_elsewhere_is_no_duplicate(landing: Path, request: pytest.FixtureRequest) -> None:
    content = HEADER + rows(2, 410)
    land(landing, "vouchers", NEIGHBOUR, "v.csv", content)
    load_partition("vouchers", NEIGHBOUR)
    land(landing, "vouchers", DAY, "v.csv", content)
    [result] = load_partition("vouchers", DAY)
    assert [n.status for n in result.not_loaded] == ["duplicate"] and result.rows == 0
    # the neighbour is reloaded with another file: its first file is not in the warehouse any more
    (landing / "vouchers" / NEIGHBOUR.isoformat() / "v.csv").write_text(HEADER + rows(2, 420))
    load_partition("vouchers", NEIGHBOUR)
    [result] = load_partition("vouchers", DAY)
    assert result.rows == 2 and not result.not_loaded
    record(request, "duplicate whose first copy was reloaded away", "csv", "LOADS", "only what is loaded now counts")


def test_the_same_file_in_two_partitions_at_once_loads_once(
    landing: Path, warehouse_params: ServerParams, request: pytest.FixtureRequest
) -> None:
    content = HEADER + rows(500, 1000)
    days = [date(2024, 3, n) for n in (1, 2, 3, 4)]
    for day in days:
        land(landing, "vouchers", day, "v.csv", content)
    results: dict[date, object] = {}
    threads = [threading.Thread(target=lambda d=d: results.update({d: load_partition("vouchers", d)})) for d in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    outcomes = sorted(result[0].rows for result in results.values())
    assert outcomes == [0, 0, 0, 500], outcomes
    with warehouse.connect() as conn:
        statuses = conn.execute("select status, count(*) from audit.load_log group by 1 order by 1").fetchall()
    assert statuses == [("duplicate", 3), ("loaded", 1)]
    record(request, "same file, 4 partitions loaded at once", "csv", "DUPLICATE", "one loads; 3 duplicates name it")


def test_an_unchanged_snapshot_is_the_next_days_snapshot(landing: Path, request: pytest.FixtureRequest) -> None:
    """A table of daily full snapshots (Table.snapshot): the same file on the next day is loaded (that day's whole
    table), not skipped as a duplicate, which would leave the day empty; two copies in one day still are one."""
    header = "product_id,name,categoryId,categoryName,basePrice,unit,weight,createdDate\n"
    content = header + "p1,Café,k1,Bebidas,10,kg,1,2018-01-01\n"
    land(landing, "subscriptions", NEIGHBOUR, "product.csv", content)
    land(landing, "subscriptions", DAY, "product.csv", content)
    land(landing, "subscriptions", DAY, "product_copy.csv", content)
    for day in (NEIGHBOUR, DAY):
        load_partition("subscriptions", day)
    with warehouse.connect() as conn:
        loaded = conn.execute(
            "select partition_date, status, count(*) from audit.load_log where table_name = 'products'"
            " group by 1, 2 order by 1, 2"
        ).fetchall()
        rows = conn.execute(
            "select _partition_date, count(*) from raw_subscriptions.products group by 1 order by 1"
        ).fetchall()
    assert loaded == [(NEIGHBOUR, "loaded", 1), (DAY, "duplicate", 1), (DAY, "loaded", 1)]
    assert rows == [(NEIGHBOUR, 1), (DAY, 1)]
    record(request, "unchanged snapshot file the next day", "csv", "LOADS", "a snapshot table loads it for the day")


# -- a file still being written ----------------------------------------------------------------------------------


def test_a_file_that_changes_during_its_load_fails_transiently(
    landing: Path, warehouse_params: ServerParams, request: pytest.FixtureRequest
) -> None:
    path = land(landing, "vouchers", DAY, "v.csv", HEADER + rows(3, 600))
    failure: list[LoadError] = []
    # hold the partition's lock, so that the load waits after hashing the file; then the file grows
    with psycopg.connect(warehouse_params.libpq_url()) as blocker:
        blocker.execute("select pg_advisory_xact_lock(hashtext('raw_vouchers.voucher_assignments'), 20240301)")

        def run() -> None:
            try:
                load_partition("vouchers", DAY)
            except LoadError as exc:
                failure.append(exc)

        loader = threading.Thread(target=run)
        loader.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = blocker.execute(
                "select count(*) from pg_locks where locktype = 'advisory' and not granted"
            ).fetchone()[0]
            if waiting:
                break
            time.sleep(0.05)
        with path.open("a") as handle:
            handle.write(row(603))
        blocker.rollback()
    loader.join(60)
    [error] = failure
    assert error.transient, "a retry (Airflow's) loads it once it is complete"
    assert str(error).startswith(f"vouchers/{DAY}/v.csv: the file changed while it was being loaded"), error
    assert table_rows("raw_vouchers.voucher_assignments") == []
    record(request, "file still being written", "csv", "FAILS (retried)", str(error))


# -- the landing folder of a source -------------------------------------------------------------------------------


def test_misnamed_folders_are_reported_by_every_run_of_the_source(
    landing: Path, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    for folder in ("2024-3-1", "20240302", "March", "2024-02-30"):
        (landing / "vouchers" / folder).mkdir(parents=True)
        (landing / "vouchers" / folder / "v.csv").write_text(HEADER + row(1))
    (landing / "vouchers" / "stray.csv").write_text(HEADER + row(1))
    land(landing, "vouchers", date(2024, 5, 1), "v.csv", HEADER + rows(2, 800))
    caplog.set_level(logging.WARNING)
    load_partition("vouchers", date(2024, 5, 1))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    expected = [
        "vouchers/2024-02-30/: not a partition folder (partition folders are named YYYY-MM-DD",
        "vouchers/2024-3-1/: a folder named like a date but not in the form YYYY-MM-DD: its files are never loaded;"
        " rename it to 2024-03-01",
        "vouchers/20240302/: a folder named like a date but not in the form YYYY-MM-DD: its files are never loaded;"
        " rename it to 2024-03-02",
        "vouchers/March/: not a partition folder",
        "vouchers/stray.csv: a file outside any partition folder: it is never loaded; move it into"
        " vouchers/YYYY-MM-DD/",
    ]
    for text in expected:
        assert any(w.startswith(text) for w in warnings), (text, warnings)
    record(request, "misnamed date folder, any run", "landing", "WARNING", expected[1])
