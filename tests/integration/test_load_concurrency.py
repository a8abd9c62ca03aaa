"""Loads running at once: no ACCESS EXCLUSIVE lock on a raw table, no deadlock, bounded lock waits that name
their holder, and failures classified as transient or not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from elt import load, warehouse
from elt.load import LoadError, is_transient, load_partition
from elt.warehouse import ServerParams

HEADER = "timestamp,country_code,last_order_ts,first_order_ts,total_orders,voucher_amount\n"
DAYS = [date(2024, 5, 1) + timedelta(days=n) for n in range(4)]
PARENT = "raw_vouchers.voucher_assignments"


def write_vouchers(landing: Path, day: date, rows: int, tag: str = "") -> None:
    folder = landing / "vouchers" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    lines = (f"{day} 10:00:{n % 60:02d},Peru{tag},2024-01-01,2023-01-01,{n}.0,2640.0\n" for n in range(rows))
    (folder / "vouchers.csv").write_text(HEADER + "".join(lines))


def partition_rows(day: date) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            f"select country_code, total_orders, _source_file, _source_row, _batch_id from {PARENT}"  # noqa: S608
            " where _partition_date = %s order by _source_row",
            (day,),
        ).fetchall()


def run_at_once(actions: list[Callable[[], object]], timeout: float = 120) -> list[BaseException | None]:
    """Run the actions in threads started together; each one's exception (or None)."""
    start = threading.Barrier(len(actions))
    errors: list[BaseException | None] = [None] * len(actions)

    def worker(index: int) -> None:
        start.wait()
        try:
            actions[index]()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a load hung"
    return errors


@contextmanager
def all_publish_together(monkeypatch: pytest.MonkeyPatch, cls: type, parties: int) -> Iterator[None]:
    """Make `parties` loads reach publish() at the same moment, each holding the locks of its prepare and COPY:
    the interleaving in which the old swap (drop + attach) deadlocked every time."""
    barrier = threading.Barrier(parties, timeout=30)
    original = cls.publish

    def publish(self) -> None:
        barrier.wait()
        original(self)

    monkeypatch.setattr(cls, "publish", publish)
    try:
        yield
    finally:
        monkeypatch.setattr(cls, "publish", original)


@pytest.fixture
def parent_locks(monkeypatch: pytest.MonkeyPatch, warehouse_params: ServerParams) -> list[dict[str, set[str]]]:
    """For every successful load: the lock modes its session holds at the end of its transaction (locks are only
    released at commit, so these are all it took), by relation, seen from another session."""
    seen: list[dict[str, set[str]]] = []
    original = load._log_rows

    def spy(conn: psycopg.Connection, rows: list[tuple]) -> None:
        if rows and rows[0][8] == "loaded":
            with warehouse.connect(warehouse_params) as other:
                locks: dict[str, set[str]] = {}
                for relation, mode in other.execute(
                    "select relation::regclass::text, mode from pg_locks"
                    " where pid = %s and locktype = 'relation' and granted",
                    (conn.info.backend_pid,),
                ):
                    locks.setdefault(relation, set()).add(mode)
                seen.append(locks)
        original(conn, rows)

    monkeypatch.setattr(load, "_log_rows", spy)
    return seen


def test_no_load_takes_an_access_exclusive_lock_on_the_table(
    landing: Path, parent_locks: list[dict[str, set[str]]]
) -> None:
    write_vouchers(landing, DAYS[0], 50)
    load_partition("vouchers", DAYS[0])  # first load: create, COPY, attach
    load_partition("vouchers", DAYS[0])  # reload: truncate, COPY
    first, reload = parent_locks
    assert first[PARENT] <= {"AccessShareLock", "ShareUpdateExclusiveLock"}, first
    assert reload[PARENT] <= {"AccessShareLock"}, reload
    assert "AccessExclusiveLock" in reload[f"{PARENT}_p20240501"], "the reload truncates its own partition"
    assert len(partition_rows(DAYS[0])) == 50


def test_a_reload_does_not_wait_for_readers_of_other_partitions(landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_LOCK_TIMEOUT", "2s")
    for day in DAYS[:2]:
        write_vouchers(landing, day, 20)
        load_partition("vouchers", day)
    with warehouse.connect() as reader:  # an analyst's open transaction on the first day's partition
        reader.execute(f"select count(*) from {PARENT} where _partition_date = %s", (DAYS[0],))
        write_vouchers(landing, DAYS[1], 30, tag="2")
        load_partition("vouchers", DAYS[1])  # the old swap's DROP waited for this reader on the whole table
        write_vouchers(landing, DAYS[2], 10)
        load_partition("vouchers", DAYS[2])  # a new partition is attached while the reader reads
        reader.rollback()
    assert [r[0] for r in partition_rows(DAYS[1])] == ["Peru2"] * 30
    assert len(partition_rows(DAYS[2])) == 10


@pytest.mark.parametrize("repeat", range(3))
def test_concurrent_reloads_of_different_partitions_all_succeed(
    landing: Path, monkeypatch: pytest.MonkeyPatch, repeat: int
) -> None:
    for day in DAYS:
        write_vouchers(landing, day, 2000)
        load_partition("vouchers", day)
    for day in DAYS:
        write_vouchers(landing, day, 3000, tag=f"-{repeat}")
    with all_publish_together(monkeypatch, load._PartitionLoad, len(DAYS)):
        errors = run_at_once([lambda day=day: load_partition("vouchers", day) for day in DAYS])
    assert errors == [None] * len(DAYS), errors
    # and without the barrier: whatever the interleaving
    errors = run_at_once([lambda day=day: load_partition("vouchers", day) for day in DAYS])
    assert errors == [None] * len(DAYS), errors
    for day in DAYS:
        rows = partition_rows(day)
        assert len(rows) == 3000 and {r[0] for r in rows} == {f"Peru-{repeat}"}
        assert [r[3] for r in rows] == list(range(2, 3002))
        assert len({r[4] for r in rows}) == 1, "one batch per partition"


def test_concurrent_first_loads_of_new_partitions_attach_one_after_the_other(
    landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in DAYS:
        write_vouchers(landing, day, 1000)
    with all_publish_together(monkeypatch, load._PartitionLoad, len(DAYS)):
        errors = run_at_once([lambda day=day: load_partition("vouchers", day) for day in DAYS])
    assert errors == [None] * len(DAYS), errors
    assert [len(partition_rows(day)) for day in DAYS] == [1000] * len(DAYS)


def test_the_same_partition_loaded_twice_at_once_is_serialised(landing: Path) -> None:
    write_vouchers(landing, DAYS[0], 5000)
    errors = run_at_once([lambda: load_partition("vouchers", DAYS[0])] * 2)
    assert errors == [None, None], errors
    rows = partition_rows(DAYS[0])
    assert len(rows) == 5000 and len({r[4] for r in rows}) == 1
    with warehouse.connect() as conn:
        statuses = conn.execute("select status, count(distinct batch_id) from audit.load_log group by 1").fetchall()
    assert statuses == [("loaded", 2)]


# -- keyed tables -----------------------------------------------------------------------------------------------

USERS_HEADER = (
    "id,first_name,last_name,email,age,gender,state,street_address,postal_code,city,country,latitude,longitude,"
    "traffic_source,created_at\n"
)


def write_users(landing: Path, day: date, ids: list[int], name: str) -> None:
    folder = landing / "thelook" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    lines = (f"{i},{name if i % 3 else 'same'},L,u{i}@x,30,F,S,Street,1,C,US,1,1,Search,2024-01-01\n" for i in ids)
    (folder / "users.csv").write_text(USERS_HEADER + "".join(lines))


def users() -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select id, first_name, _source_file, _source_row, _partition_date from raw_thelook.users order by id"
        ).fetchall()


def test_concurrent_keyed_loads_of_overlapping_keys_never_deadlock(
    landing: Path, monkeypatch: pytest.MonkeyPatch, warehouse_params: ServerParams
) -> None:
    day1, day2 = date(2024, 9, 1), date(2024, 9, 2)
    ids = list(range(1, 3001))
    # the same keys in opposite file orders; a third of the rows identical in both days
    write_users(landing, day1, ids, "first")
    write_users(landing, day2, ids[::-1], "second")
    results = set()
    for _ in range(3):
        with warehouse.connect() as conn:
            conn.execute("truncate raw_thelook.users")
        with all_publish_together(monkeypatch, load._KeyedUpsert, 2):
            errors = run_at_once([lambda: load_partition("thelook", day1), lambda: load_partition("thelook", day2)])
        assert errors == [None, None], errors
        results.add(tuple(users()))
    # the same as one load after the other, in one order or the other
    serial = []
    for order in ((day1, day2), (day2, day1)):
        with warehouse.connect() as conn:
            conn.execute("truncate raw_thelook.users")
        for day in order:
            load_partition("thelook", day)
        serial.append(tuple(users()))
    assert results <= set(serial), "concurrent keyed loads give what some serial order gives"
    assert len(users()) == 3000


# -- bounded lock waits -----------------------------------------------------------------------------------------


def test_a_lock_wait_times_out_naming_the_holder_and_is_logged(landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_LOCK_TIMEOUT", "1s")
    write_vouchers(landing, DAYS[0], 10)
    load_partition("vouchers", DAYS[0])
    before = partition_rows(DAYS[0])
    with warehouse.connect(application_name="nightly maintenance") as holder:
        holder.execute("select pg_advisory_xact_lock(hashtext(%s), %s)", (PARENT, 20240501))
        holder_pid = holder.info.backend_pid
        write_vouchers(landing, DAYS[0], 20)
        clock = time.monotonic()
        with pytest.raises(LoadError) as failure:
            load_partition("vouchers", DAYS[0])
        waited = time.monotonic() - clock
        holder.rollback()
    message = str(failure.value)
    assert waited < 5, f"failed after {waited:.1f} s with a 1 s lock timeout"
    assert failure.value.transient is True and is_transient(failure.value)
    assert f"{PARENT} 2024-05-01" in message and "ELT_LOCK_TIMEOUT=1s" in message, message
    assert f"pid {holder_pid} (application_name 'nightly maintenance', idle in transaction for" in message, message
    assert f"ExclusiveLock on the advisory lock of {PARENT} 2024-05-01" in message, message
    assert partition_rows(DAYS[0]) == before
    with warehouse.connect() as conn:
        status, error = conn.execute(
            "select status, error from audit.load_log order by batch_id desc, finished_at desc limit 1"
        ).fetchone()
    assert (status, error) == ("failed", message)


def test_a_reload_times_out_on_a_reader_of_its_own_partition(landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_LOCK_TIMEOUT", "500ms")
    write_vouchers(landing, DAYS[0], 10)
    load_partition("vouchers", DAYS[0])
    with warehouse.connect(application_name="analyst") as reader:
        reader.execute(f"select count(*) from {PARENT} where _partition_date = %s", (DAYS[0],))
        with pytest.raises(LoadError, match=r"pid \d+ \(application_name 'analyst', idle in transaction") as failure:
            load_partition("vouchers", DAYS[0])
        reader.rollback()
    assert f"AccessShareLock on {PARENT}_p20240501" in str(failure.value)
    assert failure.value.transient


def test_loader_connections_say_what_they_load(landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_LOCK_TIMEOUT", "7s")
    write_vouchers(landing, DAYS[0], 10)
    seen = []
    original = load._log_rows

    def spy(conn: psycopg.Connection, rows: list[tuple]) -> None:
        seen.append(
            conn.execute("select current_setting('application_name'), current_setting('lock_timeout')").fetchone()
        )
        original(conn, rows)

    monkeypatch.setattr(load, "_log_rows", spy)
    load_partition("vouchers", DAYS[0])
    assert seen == [(f"elt load {PARENT} 2024-05-01", "7s")]


def test_an_invalid_lock_timeout_setting_is_a_clear_error(landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_LOCK_TIMEOUT", "soon")
    with pytest.raises(LoadError, match="ELT_LOCK_TIMEOUT='soon' is not a valid lock_timeout") as failure:
        load_partition("vouchers", DAYS[0])
    assert not failure.value.transient


# -- classification ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (psycopg.errors.LockNotAvailable("lock timeout"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), True),
        (psycopg.errors.SerializationFailure("could not serialize"), True),
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
        (psycopg.errors.ConnectionFailure("connection failure"), True),
        (psycopg.OperationalError("server closed the connection unexpectedly"), True),
        (psycopg.errors.InvalidPassword("password authentication failed"), False),
        (psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum"), False),
        (psycopg.errors.BadCopyFileFormat("missing data for column"), False),
        (psycopg.errors.UndefinedColumn("column does not exist"), False),
        (ValueError("bad"), False),
        (LoadError("x.csv: file is empty"), False),
        (LoadError("lock timeout", transient=True), True),
    ],
)
def test_errors_are_classified_transient_or_deterministic(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_load_error_keeps_its_flag_when_pickled() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(LoadError("deadlock detected", transient=True)))
    assert (str(error), error.transient) == ("deadlock detected", True)
