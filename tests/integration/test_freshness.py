"""Freshness: a day counts only when every table of the source loaded (or may have no file that day) and passed
its latest validation; the message says, per day, which tables are missing or failed and why."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from elt import warehouse
from elt.freshness import describe_missing, missing_partitions, partition_problems
from elt.load import LoadError, load_partition
from elt.quality import QualityError, validate_partition
from elt.sources import get_source

VOUCHER_HEADER = "timestamp,country_code,last_order_ts,total_orders,voucher_amount\n"
GOOD = "2024-05-01 10:00:00,Peru,2024-04-01,1.0,2640\n"
BAD = "2024-05-01 10:00:00,,2024-04-01,1.0,2640\n"  # empty country: an error row
START = date(2024, 5, 1)
DAYS = [START + timedelta(n) for n in range(7)]


def matches(pattern: str, lines: list[str]) -> bool:
    """One problem line, matching `pattern` (batch and run ids as `N`)."""
    regex = re.escape(pattern).replace("N", r"\d+")
    return len(lines) == 1 and re.fullmatch(regex, lines[0]) is not None


def land_vouchers(landing: Path, day: date, content: str, name: str = "v.csv") -> None:
    folder = landing / "vouchers" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    # the voucher's time is the day's: the same file in two partitions would be a duplicate, not loaded twice
    (folder / name).write_text(content.replace("2024-05-01 10:00:00", f"{day.isoformat()} 10:00:00"))


def test_a_day_counts_only_when_its_table_loaded_and_passed_validation(landing: Path) -> None:
    good, unvalidated, failed_load, failed_check, no_file, reloaded, never = DAYS
    for day in (good, unvalidated, failed_check, reloaded):
        land_vouchers(landing, day, VOUCHER_HEADER + GOOD * 3)
    land_vouchers(landing, failed_check, VOUCHER_HEADER + GOOD + BAD * 3)
    for day in (good, unvalidated, failed_check, reloaded):
        load_partition("vouchers", day)
    for day in (good, reloaded):
        validate_partition("vouchers", day)
    with pytest.raises(QualityError):
        validate_partition("vouchers", failed_check)
    # a partition that loaded and validated once, then its reload failed: the latest load counts
    land_vouchers(landing, failed_load, VOUCHER_HEADER + GOOD)
    load_partition("vouchers", failed_load)
    validate_partition("vouchers", failed_load)
    land_vouchers(landing, failed_load, VOUCHER_HEADER + "2024-05-01,Peru\n")
    with pytest.raises(LoadError):
        load_partition("vouchers", failed_load)
    load_partition("vouchers", no_file)  # the run ran, but no file landed
    load_partition("vouchers", reloaded)  # loaded again, not validated since

    problems = partition_problems("vouchers", START, START + timedelta(8))
    assert list(problems) == [unvalidated, failed_load, failed_check, no_file, reloaded, never, START + timedelta(7)]
    assert good not in problems
    assert matches("voucher_assignments: loaded (batch N) but never validated", problems[unvalidated])
    [failure] = problems[failed_load]
    assert failure.startswith("voucher_assignments: latest load failed (batch ")
    assert "vouchers/2024-05-03/v.csv: line 2: a short row" in failure, failure
    assert matches(
        "voucher_assignments: latest validation failed (run N: 3 of 4 rows with errors, over the suite's threshold;"
        " see audit.dq_exceptions)",
        problems[failed_check],
    ), problems[failed_check]
    assert matches(
        "voucher_assignments: no file loaded (no_files, batch N); its contract expects one every day",
        problems[no_file],
    ), problems[no_file]
    assert matches(
        "voucher_assignments: loaded again (batch N) after its latest validation (run N)", problems[reloaded]
    )
    assert problems[never] == ["not loaded (no load of any table in audit.load_log)"]

    assert missing_partitions("vouchers", START, START + timedelta(8)) == list(problems)
    message = describe_missing("vouchers", START + timedelta(8), problems)
    assert message.startswith(
        "vouchers is not fresh up to 2024-05-09: no successful load for partition(s) 2024-05-02, 2024-05-03,"
    )
    assert re.search(r"\n  2024-05-04: voucher_assignments: latest validation failed \(run \d+: 3 of 4 rows", message)
    assert "\n  2024-05-07: not loaded (no load of any table in audit.load_log)" in message
    assert message.endswith("`elt backfill vouchers_daily --start 2024-05-02 --end 2024-05-08`.")
    # the old signature (a list of dates) still gives a message
    assert "partition(s) 2024-05-02" in describe_missing("vouchers", START + timedelta(8), [unvalidated])

    # fixing a day makes it count: validate the unvalidated one
    validate_partition("vouchers", unvalidated)
    assert unvalidated not in partition_problems("vouchers", START, START + timedelta(8))
    assert partition_problems("vouchers", good, good + timedelta(1)) == {}


# -- theLook: several tables, some of which may have no file on a day ------------------------------------------


def land_thelook(landing: Path, day: date, tables: list[str], broken: str | None = None) -> None:
    folder = landing / "thelook" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for table in get_source("thelook").tables:
        if table.name in tables:
            columns = table.required
            # a value of the day: the same file in two partitions would be a duplicate, not loaded twice
            row = ",".join([*(str(n + 1) for n in range(len(columns) - 1)), day.isoformat()])
            if table.name == broken:
                row = "1,2"
            (folder / f"{table.name}.csv").write_text(",".join(columns) + "\n" + row + "\n")


def mark_validated(day: date, success: dict[str, bool] | None = None) -> None:
    """Record a validation run for every table of theLook on `day` (as elt.quality does, without GX)."""
    success = success or {}
    with warehouse.connect() as conn:
        for table in get_source("thelook").tables:
            ok = success.get(table.name, True)
            conn.execute(
                "insert into audit.dq_runs (source, table_name, partition_date, batch_id, suite, rows_checked,"
                " error_rows, warn_rows, success, started_at, finished_at)"
                " values ('thelook', %s, %s, null, %s, 10, %s, 0, %s, clock_timestamp(), clock_timestamp())",
                (table.name, day, f"raw_thelook.{table.name}", 0 if ok else 9, ok),
            )


def test_thelook_counts_a_day_when_every_table_loaded_or_may_have_no_file(landing: Path) -> None:
    everything = [table.name for table in get_source("thelook").tables]
    snapshot, quiet, no_events, broken, bad_check = DAYS[:5]
    land_thelook(landing, snapshot, everything)
    land_thelook(landing, quiet, ["events"])  # a delta with only events: products and centres never come daily
    land_thelook(landing, no_events, ["users", "orders"])
    land_thelook(landing, broken, ["events", "orders"], broken="orders")
    land_thelook(landing, bad_check, ["events", "users"])
    for day in (snapshot, quiet, no_events, bad_check):
        load_partition("thelook", day)
        mark_validated(day, {"users": False} if day == bad_check else None)
    with pytest.raises(LoadError):
        load_partition("thelook", broken)

    problems = partition_problems("thelook", snapshot, snapshot + timedelta(6))
    assert snapshot not in problems and quiet not in problems
    assert matches(
        "events: no file loaded (no_files, batch N); its contract expects one every day", problems[no_events]
    ), "events are exported every day"
    assert len(problems[broken]) == 2
    assert problems[broken][0].startswith("orders: latest load failed (batch ")
    assert "thelook/2024-05-04/orders.csv: line 2" in problems[broken][0]
    # the load stopped at orders: events, after it in the contract, never ran
    assert problems[broken][1] == (
        "not loaded (no load in audit.load_log): order_items, products, inventory_items, distribution_centers, events"
    )
    assert matches(
        "users: latest validation failed (run N: 9 of 10 rows with errors, over the suite's threshold;"
        " see audit.dq_exceptions)",
        problems[bad_check],
    ), problems[bad_check]
    assert problems[DAYS[5]] == ["not loaded (no load of any table in audit.load_log)"]
    message = describe_missing("thelook", snapshot + timedelta(6), problems)
    assert "no successful load for partition(s) 2024-05-03, 2024-05-04, 2024-05-05, 2024-05-06" in message
    assert "\n  2024-05-04: orders: latest load failed" in message


def test_a_day_where_no_table_had_a_file_does_not_count(landing: Path) -> None:
    # every table of this day may have no file, but a day with no file at all is no loaded day
    with warehouse.connect() as conn:
        for batch, table in enumerate(get_source("thelook").tables, 1):
            if table.every_day:
                continue
            conn.execute(
                "insert into audit.load_log (batch_id, source, table_name, partition_date, rows_loaded, started_at,"
                " finished_at, status) values (%s, 'thelook', %s, %s, 0, now(), now(), 'no_files')",
                (batch, table.name, START),
            )
    problems = partition_problems("thelook", START, START + timedelta(1))
    assert problems[START] == ["not loaded (no load in audit.load_log): events"]
    with warehouse.connect() as conn:
        conn.execute(
            "insert into audit.load_log (batch_id, source, table_name, partition_date, rows_loaded, started_at,"
            " finished_at, status) values (99, 'thelook', 'events', %s, 0, now(), now(), 'no_files')",
            (START,),
        )
    assert partition_problems("thelook", START, START + timedelta(1))[START] == [
        "events: no file loaded (no_files, batch 99); its contract expects one every day"
    ]
