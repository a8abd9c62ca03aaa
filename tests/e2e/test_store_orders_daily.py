"""store_orders_daily end to end through `elt run`: every step runs and does its work (the day's rows loaded,
validated, converted, tiered, in the marts). Re-runs and bad files are tested below the DAG
(tests/integration/test_dbt_store_orders.py, test_quality_store_orders.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

from elt import warehouse
from elt.generate.store_orders import day_feeds, generate_store_orders, map_rows

DAY = date(2024, 3, 10)  # daylight saving starts in the Pacific: the day has 23 hours


def test_a_day_through_the_dag(elt: Callable[..., subprocess.CompletedProcess], landing: Path) -> None:
    generate_store_orders(landing, DAY, 1, seed=5, scale=0.01)
    sheet, records = day_feeds(DAY, seed=5, scale=0.01)
    result = elt("run", "store_orders_daily", "--date", DAY.isoformat())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    with warehouse.connect() as conn:
        loaded = dict(conn.execute("select table_name, sum(rows_loaded) from audit.load_log group by 1").fetchall())
        validated = conn.execute("select count(*), bool_and(success) from audit.dq_runs").fetchone()
        quarantined = conn.execute(
            "select count(distinct (table_name, source_row)) from audit.dq_exceptions"
            " where severity = 'error' and table_name like 'orders%'"
        ).fetchone()[0]
        rates = conn.execute("select currency from raw_store_orders.fx_rates where rate_date = %s", (DAY,)).fetchall()
        orders, cities = conn.execute(
            "select sum(orders), count(*) from marts.store_city_summary where order_date = %s", (DAY,)
        ).fetchone()
        tiers = conn.execute("select count(*) from marts.store_city_tiers where order_date = %s", (DAY,)).fetchone()[0]
    assert loaded == {
        "orders_sheet": sheet.order_no.size,
        "orders_json": records.order_no.size,
        "city_district_map": len(map_rows(5)),
    }
    assert validated == (3, True)
    assert ("CNY",) in rates
    assert orders == sheet.order_no.size + records.order_no.size - quarantined  # all but the quarantined
    assert cities > 100 and tiers >= 3
