"""Real exports go back years: a 2018 partition and a 2024 one both load and build their marts, every task runs,
and a date before the history start is refused instead of "succeeding" with nothing done."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

from elt import warehouse
from elt.generate import generate

OLD, NEW = date(2018, 7, 31), date(2024, 1, 7)


def test_a_2018_and_a_2024_partition_both_load_and_build_their_marts(
    elt: Callable[..., subprocess.CompletedProcess], landing: Path, elt_env: dict[str, str]
) -> None:
    for day in (OLD, NEW):
        generate("vouchers", landing, day, 1, seed=day.year, rows_per_day=200)
        result = elt("run", "vouchers_daily", "--date", day.isoformat())
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert f"vouchers_daily {day}: success" in result.stdout
    with warehouse.connect() as conn:
        loaded = conn.execute(
            "select partition_date, sum(rows_loaded) from audit.load_log where status = 'loaded' group by 1 order by 1"
        ).fetchall()
        marts = conn.execute(
            "select as_of_date, count(*) from marts.voucher_most_used group by 1 order by 1"
        ).fetchall()
    assert [day for day, _rows in loaded] == [OLD, NEW]
    assert all(rows > 150 for _day, rows in loaded)
    assert [day for day, _count in marts] == [OLD, NEW]
    assert all(count > 0 for _day, count in marts)


def test_a_date_before_the_history_start_fails_and_says_why(
    elt: Callable[..., subprocess.CompletedProcess], landing: Path, elt_env: dict[str, str]
) -> None:
    elt_env["ELT_HISTORY_START"] = "2018-08-01"
    generate("vouchers", landing, OLD, 1, rows_per_day=50)
    result = elt("run", "vouchers_daily", "--date", OLD.isoformat())
    assert result.returncode == 2
    assert "before the history start of vouchers_daily (2018-08-01)" in result.stderr
    assert "ELT_HISTORY_START" in result.stderr
    with warehouse.connect() as conn:
        assert conn.execute("select count(*) from audit.load_log").fetchone()[0] == 0
