"""The GX runner on generated data: every injected bad value is recorded, as an independent Python check finds."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from elt import config, warehouse
from elt.generate.vouchers import write_voucher_file
from elt.load import load_partition
from elt.quality import QualityError, validate_partition

DAY = date(2024, 5, 1)


def _is_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def _positive_number(text: str) -> bool:
    try:
        return Decimal(text) > 0
    except InvalidOperation:
        return False


def expected_errors(path: Path) -> set[tuple[int, str]]:
    """(line, rule) of every row a reader of the file would call an error, by the issue's rules."""
    found = set()
    with path.open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if not _is_timestamp(row["timestamp"]):
                found.add((line, "timestamp_is_timestamp"))
            if not row["country_code"].strip():
                found.add((line, "country_code_not_empty"))
            if not _is_timestamp(row["last_order_ts"]):
                found.add((line, "last_order_ts_is_timestamp"))
            if not _positive_number(row["voucher_amount"]):
                found.add((line, "voucher_amount_positive_number"))
            orders = row["total_orders"].strip()
            if orders and not (orders.replace(".0", "", 1).isdigit() and not orders.startswith("-")):
                found.add((line, "total_orders_whole_number"))
    return found


def test_every_injected_error_is_recorded_with_file_row_and_rule(landing: Path, tmp_path: Path) -> None:
    path = write_voucher_file(
        landing / "vouchers" / DAY.isoformat() / "vouchers.csv", 20_000, seed=3, day=DAY, file_format="csv"
    )
    expected = expected_errors(path)
    assert len(expected) > 100, "the generator injects errors at its documented rates"
    load_partition("vouchers", DAY)
    [result] = validate_partition("vouchers", DAY)
    with warehouse.connect() as conn:
        recorded = conn.execute(
            "select source_file, source_row, rule from audit.dq_exceptions where severity = 'error'"
        ).fetchall()
        warn_rows = conn.execute(
            "select count(*) from audit.dq_exceptions where rule = 'total_orders_present'"
        ).fetchone()[0]
    assert {file for file, _, _ in recorded} == {"vouchers/2024-05-01/vouchers.csv"}
    assert {(line, rule) for _, line, rule in recorded} == expected
    assert result.error_rows == len({line for line, _ in expected})
    assert result.rows_checked == 20_000
    assert 0.06 < warn_rows / 20_000 < 0.10, "about 8% of total_orders are empty: a warning, not an error"


def test_validating_twice_replaces_the_exceptions(landing: Path) -> None:
    write_voucher_file(
        landing / "vouchers" / DAY.isoformat() / "v.parquet", 3_000, seed=5, day=DAY, file_format="parquet"
    )
    load_partition("vouchers", DAY)
    query = (
        "select source_file, source_row, column_name, rule, severity, bad_value, message"
        " from audit.dq_exceptions order by 1, 2, 4"
    )
    validate_partition("vouchers", DAY)
    with warehouse.connect() as conn:
        first = conn.execute(query).fetchall()
    validate_partition("vouchers", DAY)
    with warehouse.connect() as conn:
        assert conn.execute(query).fetchall() == first
        assert conn.execute("select count(*) from audit.dq_runs").fetchone()[0] == 2
    index = (config.data_docs_dir() / "index.html").read_text()
    assert "raw_vouchers.voucher_assignments.2024-05-01" in index, "the data docs list the validated partition"


def test_an_error_share_above_the_threshold_fails_after_recording(landing: Path) -> None:
    folder = landing / "vouchers" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "bad.csv").write_text(
        "timestamp,country_code,last_order_ts,total_orders,voucher_amount\n"
        "2024-05-01 10:00:00,Peru,2024-04-01,1.0,2640\n"
        "2024-05-01 10:00:00,,2024-04-01,1.0,2640\n"
    )
    load_partition("vouchers", DAY)
    with pytest.raises(QualityError, match=r"voucher_assignments: 1 of 2 rows have errors \(50.0%\)"):
        validate_partition("vouchers", DAY)
    with warehouse.connect() as conn:
        assert conn.execute("select source_row, rule from audit.dq_exceptions").fetchall() == [
            (3, "country_code_not_empty")
        ]
        assert conn.execute("select success from audit.dq_runs").fetchone() == (False,)
