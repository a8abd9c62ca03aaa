"""`elt`'s argument checks that answer before anything starts (no server, no Airflow)."""

from __future__ import annotations

import pytest

from elt.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["backfill", "all", "thelook_daily", "--start", "2024-01-01", "--end", "2024-01-02"], "either `all` or DAG"),
        (["backfill", "thelook_daily", "--start", "2024-01-02", "--end", "2024-01-01"], "is before --start"),
    ],
)
def test_a_backfill_that_cannot_be_meant_says_why(argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        main(argv)


def test_a_backfill_takes_several_dag_ids() -> None:
    from elt.cli import parser

    args = parser().parse_args(
        ["backfill", "thelook_daily", "vouchers_daily", "--start", "2024-01-01", "--end", "2024-01-01"]
    )
    assert args.dag_ids == ["thelook_daily", "vouchers_daily"]
