"""Several partitions at once give the warehouse of one after another: a backfill of vouchers_daily, 4 runs at a time,
against the same backfill run sequentially in a second warehouse (checksums of raw rows, exceptions and marts).
`make bench` does the same for every DAG over 14 days; theLook's loads and dbt models are checked under
concurrency in tests/integration (test_load_concurrency.py, test_dbt_concurrency.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from elt.checksums import checksums
from elt.generate import generate
from elt.warehouse import ServerParams

START, DAYS = date(2024, 1, 1), 3


@pytest.fixture
def second_warehouse(
    pg_server: ServerParams, another_elt_env: Callable, tmp_path: Path
) -> Iterator[tuple[ServerParams, dict[str, str]]]:
    """Another warehouse and Airflow database, with the same landing zone: the sequential baseline."""
    with another_elt_env(pg_server, tmp_path / "sequential") as pair:
        yield pair


def test_four_at_a_time_equals_one_after_another(
    elt: Callable[..., subprocess.CompletedProcess],
    landing: Path,
    warehouse_params: ServerParams,
    second_warehouse: tuple[ServerParams, dict[str, str]],
) -> None:
    generate("vouchers", landing, START, DAYS, seed=5, rows_per_day=300)
    end = (START + timedelta(days=DAYS - 1)).isoformat()

    parallel = elt("backfill", "vouchers_daily", "--start", START.isoformat(), "--end", end, "--max-active-runs", "4")
    assert parallel.returncode == 0, parallel.stdout[-3000:] + parallel.stderr[-3000:]
    assert "4 at a time" in parallel.stdout

    baseline, env = second_warehouse
    sequential = subprocess.run(
        [
            str(Path(sys.executable).parent / "elt"),
            "backfill",
            "vouchers_daily",
            "--start",
            START.isoformat(),
            "--end",
            end,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert sequential.returncode == 0, sequential.stdout[-3000:] + sequential.stderr[-3000:]

    got, expected = checksums(warehouse_params), checksums(baseline)
    assert expected["marts.voucher_most_used"][0] > 0
    assert expected["audit.dq_exceptions"][0] > 0
    assert got == expected
