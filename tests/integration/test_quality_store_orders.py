"""store_orders' files against the real contract and suites: every quirk the generator puts in a day is an exception
of the right rule, with its file and sheet row or record index, and nothing else is; the day's rates are recorded; a
bad file fails clearly and leaves the loaded day as it was."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from elt import warehouse
from elt.fx import cny_rate
from elt.generate.store_orders import (
    EMPTY_QTY,
    FRACTIONAL_QTY,
    MAP_COLUMNS,
    TIME_TEXT,
    UNKNOWN_DISTRICT,
    USD,
    day_feeds,
    generate_store_orders,
    map_rows,
)
from elt.generate.workbook import write_workbook
from elt.load import LoadError, load_partition
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


BAD_FILES = [
    (
        "dataset1.xlsx",
        "workbook without the DATA sheet",
        "orders_sheet",
        "dataset1.xlsx: the workbook has no sheet DATA; its sheets: CITY_DISTRICT_MAP",
    ),
    ("dataset2.json", "JSON that is not an array", "orders_json", "dataset2.json: the top level is an object ({)"),
    ("dataset2.json", "a record without a column", "orders_json", "dataset2.json: record [1]: no key order_qty"),
]


@pytest.mark.parametrize(("name", "case", "table", "message"), BAD_FILES, ids=[case for _, case, _, _ in BAD_FILES])
def test_a_bad_file_fails_clearly_and_keeps_the_loaded_day(
    landing: Path, name: str, case: str, table: str, message: str
) -> None:
    """The real contract: the day loaded from good files stays as it was when a bad file replaces one of them."""
    generate_store_orders(landing, DAY, 1, seed=3, scale=0.002)
    load_partition("store_orders", DAY, landing)
    with warehouse.connect() as conn:
        before = conn.execute(
            f"select count(*), max(_batch_id) from raw_store_orders.{table} where _partition_date = %s", (DAY,)
        ).fetchone()
    assert before[0] > 0
    path = landing / "store_orders" / DAY.isoformat() / name
    record = {"ORDER_ID": "G1", "ORDER_TIME_PST": 1, "SHIP_TO_DISTRICT_NAME": "朝阳区", "SHIP_TO_CITY_CD": "北京",
              "RPTG_AMT": 1, "CURRENCY_CD": "RMB", "ORDER_QTY": 1}  # fmt: skip
    if case == "workbook without the DATA sheet":
        write_workbook(path, {"CITY_DISTRICT_MAP": [list(MAP_COLUMNS), *map(list, map_rows(3))]})
    elif case == "JSON that is not an array":
        path.write_text(json.dumps({"orders": [record]}), encoding="utf-8")
    else:
        incomplete = {key: value for key, value in record.items() if key != "ORDER_QTY"}
        path.write_text(json.dumps([record, incomplete]), encoding="utf-8")
    with pytest.raises(LoadError, match=re.escape(message)):
        load_partition("store_orders", DAY, landing)
    with warehouse.connect() as conn:
        after = conn.execute(
            f"select count(*), max(_batch_id) from raw_store_orders.{table} where _partition_date = %s", (DAY,)
        ).fetchone()
    assert after == before
