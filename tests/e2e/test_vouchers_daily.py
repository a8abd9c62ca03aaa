"""vouchers_daily end to end: `elt backfill` / `elt run` load, validate and build the mart; re-runs change nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

from elt import warehouse
from elt.generate import generate

DAYS = [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]


def snapshot(day: date) -> dict[str, list[tuple]]:
    """Raw rows, exceptions and mart rows, without the columns that legitimately change per run."""
    with warehouse.connect() as conn:
        return {
            "raw": conn.execute(
                "select timestamp, country_code, last_order_ts, first_order_ts, total_orders, voucher_amount,"
                " _source_file, _source_row, _partition_date from raw_vouchers.voucher_assignments"
                " order by _source_file, _source_row"
            ).fetchall(),
            "exceptions": conn.execute(
                "select partition_date, source_file, source_row, column_name, rule, severity, bad_value, message"
                " from audit.dq_exceptions order by source_file, source_row, rule"
            ).fetchall(),
            "mart": conn.execute(
                "select * from marts.voucher_most_used where as_of_date = %s order by 2, 3, 4", (day,)
            ).fetchall(),
        }


def test_runs_are_idempotent_and_backfills_reproduce_history(
    elt: Callable[..., subprocess.CompletedProcess], elt_env: dict[str, str], landing: Path
) -> None:
    generate("vouchers", landing, DAYS[0], len(DAYS), seed=7, rows_per_day=400)
    result = elt("backfill", "vouchers_daily", "--start", DAYS[0].isoformat(), "--end", DAYS[-1].isoformat())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    # dbt's parse of the project for this warehouse was made once before the runs (elt.dbt.prepare_parse): no dbt
    # task of the state folder's first runs parsed the whole project again
    logs = sorted((Path(elt_env["ELT_STATE_DIR"]) / "logs" / "runs" / "vouchers_daily").glob("*.log"))
    assert len(logs) == len(DAYS)
    for log in logs:
        assert "Unable to do partial parsing" not in log.read_text(), log.name
    last = snapshot(DAYS[-1])
    assert last["mart"], "the mart has rows for the last day"
    # the tasks ran as their login roles: the loader made the partitions, dbt the models
    with warehouse.connect() as conn:
        owners = dict(
            conn.execute(
                "select c.relname, pg_get_userbyid(c.relowner) from pg_class c"
                " where c.relname in ('voucher_assignments_p20240103', 'stg_vouchers__voucher_assignments',"
                " 'voucher_most_used')"
            ).fetchall()
        )
    assert owners == {
        "voucher_assignments_p20240103": "elt_loader",
        "stg_vouchers__voucher_assignments": "elt_transformer",
        "voucher_most_used": "elt_transformer",
    }
    assert last["exceptions"], "the generated quirks are recorded"

    first_day_before = snapshot(DAYS[0])["mart"]
    # A re-run of a partition leaves raw rows, exceptions and the mart identical.
    assert elt("run", "vouchers_daily", "--date", DAYS[-1].isoformat()).returncode == 0
    assert snapshot(DAYS[-1]) == last
    # A backfill of an earlier date after a later one gives that date's own numbers.
    assert elt("run", "vouchers_daily", "--date", DAYS[0].isoformat()).returncode == 0
    assert snapshot(DAYS[0])["mart"] == first_day_before
    assert {row[0] for row in first_day_before} == {DAYS[0]}


def test_every_bad_row_is_recorded_with_file_row_and_rule(
    elt: Callable[..., subprocess.CompletedProcess], elt_env: dict[str, str], landing: Path
) -> None:
    folder = landing / "vouchers" / "2024-01-01"
    folder.mkdir(parents=True)
    (folder / "hand.csv").write_text(
        "timestamp,country_code,last_order_ts,first_order_ts,total_orders,voucher_amount\n"
        "2024-01-01 10:00:00,Peru,2023-12-01,2023-01-01,3.0,2640.0\n"  # line 2: clean
        "not-a-date,Peru,2023-12-01,2023-01-01,3.0,2640.0\n"  # line 3: error timestamp
        "2024-01-01 10:00:00,,2023-12-01,2023-01-01,3.0,2640.0\n"  # line 4: error country
        "2024-01-01 10:00:00,Peru,2023-12-01,2023-01-01,,-5\n"  # line 5: error amount, warn total_orders
        "2024-01-01 10:00:00,Peru,2023-12-01,2023-01-01,2.5,2640.0\n"  # line 6: error total_orders
        "2020-01-01 10:00:00,Peru,2023-12-01,2024-01-01,1.0,2640.0\n"  # line 7: two warns
        "2024-01-01 11:00:00,China,2023-12-01,2023-01-01,1.0,3520.0\n"  # line 8: clean
        "2024-01-01 12:00:00,China,2023-12-01,2023-01-01,1.0,3520.0\n"  # line 9: clean
    )
    result = elt("run", "vouchers_daily", "--date", "2024-01-01")
    # 4 of 8 rows carry errors: above the suite's threshold, so the run fails after recording them.
    assert result.returncode == 1
    with warehouse.connect() as conn:
        found = conn.execute(
            "select source_file, source_row, rule, severity from audit.dq_exceptions order by source_row, rule"
        ).fetchall()
    f = "vouchers/2024-01-01/hand.csv"
    assert found == [
        (f, 3, "timestamp_is_timestamp", "error"),
        (f, 4, "country_code_not_empty", "error"),
        (f, 5, "total_orders_present", "warn"),
        (f, 5, "voucher_amount_positive_number", "error"),
        (f, 6, "total_orders_whole_number", "error"),
        (f, 7, "first_order_before_last_order", "warn"),
        (f, 7, "last_order_before_timestamp", "warn"),
    ]
    # the failed task's alert (the default channel, the log): the partition's exceptions per rule, with an example
    log = (Path(elt_env["ELT_STATE_DIR"]) / "logs" / "runs" / "vouchers_daily" / "2024-01-01.log").read_text()
    alerts = [line for line in log.splitlines() if "ALERT vouchers_daily 2024-01-01: task validate failed" in line]
    assert len(alerts) == 1, log[-3000:]
    assert "8 rows checked, 4 with errors, 2 with warnings" in alerts[0]
    assert f"voucher_assignments.timestamp_is_timestamp, error: 1, 1 rows; e.g. {f}:3" in alerts[0]
    assert "http://127.0.0.1:8501/quality?source=vouchers&date=2024-01-01" in alerts[0]
