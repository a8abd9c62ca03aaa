"""Quarantine belongs to the batch: a corrected file landed again under the same name is judged by its own
validation, and staging reads a batch only once its validation is recorded."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

from elt import warehouse
from elt.load import load_partition
from elt.quality import validate_table
from elt.sources import get_source

DAY = date(2024, 2, 1)
HEADER = "timestamp,country_code,last_order_ts,first_order_ts,total_orders,voucher_amount\n"
GOOD = "2024-02-01 10:00:00,Peru,2024-01-01,2023-01-01,3.0,{amount}\n"
BAD = "2024-02-01 10:00:00,Peru,2024-01-01,2023-01-01,3.0,-5\n"  # voucher_amount_positive_number: an error


def land(landing: Path, lines: list[str]) -> None:
    folder = landing / "vouchers" / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "v.csv").write_text(HEADER + "".join(lines))


def validate() -> None:
    source = get_source("vouchers")
    validate_table(source, source.table("voucher_assignments"), DAY)


def staged_lines(run_dbt: Callable[..., subprocess.CompletedProcess]) -> list[int]:
    """Build the staging model for DAY; the file lines it holds for DAY."""
    result = run_dbt(
        "run",
        "--select",
        "stg_vouchers__voucher_assignments",
        vars=f"{{run_date: '{DAY}', data_interval_end: '2024-02-02'}}",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select source_row from staging.stg_vouchers__voucher_assignments where partition_date = %s order by 1",
            (DAY,),
        ).fetchall()
    return [row[0] for row in rows]


def test_a_corrected_file_is_judged_by_its_own_validation(
    landing: Path, run_dbt: Callable[..., subprocess.CompletedProcess]
) -> None:
    land(landing, [GOOD.format(amount=100), BAD, GOOD.format(amount=300)])  # lines 2, 3 (bad), 4
    load_partition("vouchers", DAY)
    validate()
    assert staged_lines(run_dbt) == [2, 4]

    # the same name again, corrected on line 3 but now wrong on line 4
    land(landing, [GOOD.format(amount=100), GOOD.format(amount=200), BAD])
    load_partition("vouchers", DAY)
    # not validated yet: none of the new batch is staged (the old file's line 3 says nothing about it)
    assert staged_lines(run_dbt) == []
    validate()
    assert staged_lines(run_dbt) == [2, 3]
