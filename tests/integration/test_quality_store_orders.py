"""The store_orders suites on a generated day: every quirk the generator put in is an exception of the right rule,
with its file and sheet row or record index, and nothing else is; the day's rates are recorded."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

from elt import warehouse
from elt.fx import cny_rate
from elt.generate.store_orders import (
    EMPTY_QTY,
    FRACTIONAL_QTY,
    TIME_TEXT,
    UNKNOWN_DISTRICT,
    USD,
    day_feeds,
    generate_store_orders,
)
from elt.load import load_partition
from elt.quality import validate_table
from elt.sources import get_source
from elt.store_orders import record_fx_rates

DAY = date(2019, 11, 3)  # daylight saving ends in the Pacific: 01:00-01:59 twice
SCALE = 0.25  # 40,000 workbook rows and 10,000 records: every quirk in each file


def test_generated_quirks_are_exactly_the_exceptions(
    landing: Path, run_dbt: Callable[..., subprocess.CompletedProcess]
) -> None:
    generate_store_orders(landing, DAY, 1, seed=3, scale=SCALE)
    sheet, records = day_feeds(DAY, seed=3, scale=SCALE)
    source = get_source("store_orders")
    load_partition("store_orders", DAY, landing)
    seeded = run_dbt("seed", "--select", "tag:store_orders_reference")
    assert seeded.returncode == 0, seeded.stdout[-3000:]
    results = {table.name: validate_table(source, table, DAY) for table in source.tables}

    def kinds(feed, *wanted: int) -> int:
        return int(np.isin(feed.kind, wanted).sum())

    expected = Counter(
        {
            ("orders_sheet", "order_time_readable", "error"): kinds(sheet, TIME_TEXT),
            ("orders_sheet", "quantity_whole", "warn"): kinds(sheet, EMPTY_QTY, FRACTIONAL_QTY),
            ("orders_sheet", "location_known", "warn"): kinds(sheet, UNKNOWN_DISTRICT),
            ("orders_json", "order_time_readable", "error"): kinds(records, TIME_TEXT),
            ("orders_json", "quantity_whole", "warn"): kinds(records, EMPTY_QTY, FRACTIONAL_QTY),
        }
    )
    assert all(expected.values()), expected
    with warehouse.connect() as conn:
        found = Counter(
            {
                (table, rule, severity): count
                for table, rule, severity, count in conn.execute(
                    "select table_name, rule, severity, count(*) from audit.dq_exceptions group by 1, 2, 3"
                )
            }
        )
        examples = conn.execute(
            "select table_name, source_file, source_row, bad_value from audit.dq_exceptions"
            " where rule in ('order_time_readable', 'location_known') order by 1, 3"
        ).fetchall()
    assert found == expected
    assert results["orders_sheet"].rows_checked == sheet.order_no.size
    assert results["orders_json"].rows_checked == records.order_no.size
    assert results["city_district_map"].error_rows == results["city_district_map"].warn_rows == 0
    # the workbook's rows are sheet rows (the header is row 1), the records 0-based array indexes
    time_text_rows = np.flatnonzero(sheet.kind == TIME_TEXT) + 2
    assert [row for table, _, row, value in examples if table == "orders_sheet" and value == "time"] == sorted(
        time_text_rows.tolist()
    )
    assert {value for table, _, _, value in examples if table == "orders_sheet" and value != "time"} == {"999999"}
    json_rows = [row for table, file, row, _ in examples if table == "orders_json" and file.endswith("dataset2.json")]
    assert json_rows == sorted(np.flatnonzero(records.kind == TIME_TEXT).tolist())

    assert kinds(sheet, USD) + kinds(records, USD) > 0
    rates = {rate.currency: rate.cny_per_unit for rate in record_fx_rates(DAY)}
    assert rates == {"CNY": 1, "USD": cny_rate("USD", DAY).cny_per_unit}
    record_fx_rates(DAY)  # a re-run changes nothing
    with warehouse.connect() as conn:
        assert conn.execute("select currency, cny_per_unit from raw_store_orders.fx_rates order by 1").fetchall() == [
            ("CNY", rates["CNY"]),
            ("USD", rates["USD"]),
        ]
