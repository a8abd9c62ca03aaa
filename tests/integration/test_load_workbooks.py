"""Workbooks and JSON arrays through the COPY loader into raw tables, against a real Postgres: one workbook feeds one
table per sheet, `_source_row` is the sheet's row number or the record's index, re-runs replace, duplicates are
judged per table. The source is a test-only one shaped like store_orders (not registered in the project)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from elt import warehouse
from elt.generate.workbook import write_workbook
from elt.load import LoadError, load_partition
from elt.sources import Source, Table

DAY = date(2024, 3, 1)
ORDERS = ("order_id", "order_time_pst", "city_district_id", "rptg_amt", "currency_cd", "order_qty")
DISTRICTS = ("city_district_id", "ship_to_city_cd", "ship_to_district_name")
JSON_ORDERS = ("order_id", "order_time_pst", "ship_to_district_name", "ship_to_city_cd", "rptg_amt", "currency_cd")
STORE = Source(
    name="store_test",
    tables=(
        Table("orders", patterns=("dataset1*.xlsx",), required=ORDERS, sheet="DATA"),
        Table("city_districts", patterns=("dataset1*.xlsx",), required=DISTRICTS, sheet="CITY_DISTRICT_MAP"),
        Table("orders_json", patterns=("dataset2*.json",), required=JSON_ORDERS, optional=("order_qty",)),
    ),
)
SHEET_HEADER = ["ORDER_ID", "ORDER_TIME  (PST)", "CITY_DISTRICT_ID", "RPTG_AMT", "CURRENCY_CD", "ORDER_QTY"]
MAP_HEADER = ["CITY_DISTRICT_ID", "SHIP_TO_CITY_CD", "SHIP_TO_DISTRICT_NAME"]


@pytest.fixture
def store(register_source: Callable[[Source], Source], landing: Path) -> Path:
    """The test source registered, its raw tables created; returns the landing zone."""
    register_source(STORE)
    return landing


def land_workbook(landing: Path, day: date, sheets: dict[str, list[list]], name: str = "dataset1.xlsx") -> Path:
    folder = landing / STORE.name / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    return write_workbook(folder / name, sheets)


def land_json(landing: Path, day: date, records: list[dict]) -> Path:
    folder = landing / STORE.name / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataset2.json"
    path.write_text(json.dumps(records, ensure_ascii=False))
    return path


SHEETS = {
    "DATA": [
        SHEET_HEADER,
        ["G0000001198", datetime(2024, 3, 1, 9, 15), 101, 88.5, "CNY", 2],
        ["G0000001199", datetime(2024, 3, 1, 9, 16), 102, 12, "CNY", 1],
        [None] * 6,  # an empty row: skipped, the next keeps its number
        ["G0000001200", datetime(2024, 3, 1, 23, 59, 59), 101, 0.1, "CNY", None],
    ],
    "CITY_DISTRICT_MAP": [MAP_HEADER, [101, "SH", "浦东新区"], [102, "BJ", "朝阳区"]],
}
RECORDS = [
    {"ORDER_ID": "G0000009001", "ORDER_TIME_PST": "2024-03-01 08:00:00", "SHIP_TO_DISTRICT_NAME": "浦东新区",
     "SHIP_TO_CITY_CD": "SH", "RPTG_AMT": 10.50, "CURRENCY_CD": "CNY", "ORDER_QTY": 1},
    {"ORDER_ID": "G0000009002", "ORDER_TIME_PST": "2024-03-01 08:01:00", "SHIP_TO_DISTRICT_NAME": None,
     "SHIP_TO_CITY_CD": "BJ", "RPTG_AMT": 7, "CURRENCY_CD": "CNY"},
]  # fmt: skip


def rows(table: str, columns: tuple[str, ...], day: date = DAY) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            f"select {', '.join(columns)}, _source_file, _source_row from raw_store_test.{table}"
            " where _partition_date = %s order by _source_file, _source_row",
            (day,),
        ).fetchall()


def log(day: date = DAY) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select table_name, file_path, file_sha256, status, rows_loaded, error from audit.load_log"
            " where partition_date = %s order by batch_id, table_name",
            (day,),
        ).fetchall()


def test_one_workbook_feeds_a_table_per_sheet_and_json_a_table(store: Path) -> None:
    land_workbook(store, DAY, SHEETS)
    land_json(store, DAY, RECORDS)
    results = load_partition(STORE.name, DAY)
    assert [(r.table, r.rows) for r in results] == [("orders", 3), ("city_districts", 2), ("orders_json", 2)]
    workbook = "store_test/2024-03-01/dataset1.xlsx"
    assert rows("orders", ORDERS) == [
        ("G0000001198", "2024-03-01 09:15:00", "101", "88.5", "CNY", "2", workbook, 2),
        ("G0000001199", "2024-03-01 09:16:00", "102", "12", "CNY", "1", workbook, 3),
        ("G0000001200", "2024-03-01 23:59:59", "101", "0.1", "CNY", None, workbook, 5),
    ], "_source_row is the row Excel shows"
    assert rows("city_districts", DISTRICTS) == [
        ("101", "SH", "浦东新区", workbook, 2),
        ("102", "BJ", "朝阳区", workbook, 3),
    ]
    assert rows("orders_json", (*JSON_ORDERS, "order_qty")) == [
        (
            "G0000009001",
            "2024-03-01 08:00:00",
            "浦东新区",
            "SH",
            "10.5",
            "CNY",
            "1",
            "store_test/2024-03-01/dataset2.json",
            0,
        ),
        ("G0000009002", "2024-03-01 08:01:00", None, "BJ", "7", "CNY", None, "store_test/2024-03-01/dataset2.json", 1),
    ], "_source_row is the index in the array (jq '.[1]'); null and a missing optional key are NULL"
    logged = log()
    assert [(t, f, status, n) for t, f, _, status, n, _ in logged] == [
        ("orders", workbook, "loaded", 3),
        ("city_districts", workbook, "loaded", 2),
        ("orders_json", "store_test/2024-03-01/dataset2.json", "loaded", 2),
    ]
    assert logged[0][2] == logged[1][2], "the same workbook, the same sha256, loaded once per table"


def test_rerun_replaces_and_duplicates_are_judged_per_table(store: Path) -> None:
    land_workbook(store, DAY, SHEETS)
    load_partition(STORE.name, DAY)
    before = rows("orders", ORDERS), rows("city_districts", DISTRICTS)
    again = load_partition(STORE.name, DAY)
    assert [(r.table, r.rows, r.not_loaded) for r in again] == [
        ("orders", 3, []),
        ("city_districts", 2, []),
        ("orders_json", 0, []),
    ], "a re-run is no duplicate of itself, and one table's workbook is no duplicate of the other's"
    assert (rows("orders", ORDERS), rows("city_districts", DISTRICTS)) == before
    later = date(2024, 3, 2)
    land_workbook(store, later, SHEETS)
    results = load_partition(STORE.name, later)
    notes = {r.table: [(n.status, n.reason.split(" (sha256")[0]) for n in r.not_loaded] for r in results}
    assert notes["orders"] == notes["city_districts"] == [("duplicate", "same content")]
    assert all("as store_test/2024-03-01/dataset1.xlsx, loaded in partition 2024-03-01" in n.reason
               for r in results for n in r.not_loaded)  # fmt: skip


def test_a_missing_sheet_fails_its_table_only(store: Path) -> None:
    land_workbook(store, DAY, {"DATA": SHEETS["DATA"], "Map": SHEETS["CITY_DISTRICT_MAP"]})
    with pytest.raises(LoadError) as failure:
        load_partition(STORE.name, DAY)
    message = "store_test/2024-03-01/dataset1.xlsx: the workbook has no sheet CITY_DISTRICT_MAP; its sheets: DATA, Map"
    assert str(failure.value) == message
    assert [(t, status, error) for t, _, _, status, _, error in log()] == [
        ("orders", "loaded", None),
        ("city_districts", "failed", message),
    ], "each table is its own transaction: the sheet that is there loads"
    assert len(rows("orders", ORDERS)) == 3 and rows("city_districts", DISTRICTS) == []


def test_a_bad_value_in_the_middle_commits_nothing(store: Path) -> None:
    """A formula without a cached value on row 6,000 fails the table after rows went to COPY (in pieces of 4,096
    rows): none of them stays."""
    data = [SHEET_HEADER] + [[f"G{n:010d}", datetime(2024, 3, 1), 1, 1.5, "CNY", 1] for n in range(2, 6001)]
    land_workbook(store, DAY, {"DATA": data, "CITY_DISTRICT_MAP": SHEETS["CITY_DISTRICT_MAP"]})
    path = store / STORE.name / DAY.isoformat() / "dataset1.xlsx"
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        '<c r="C6000"><v>1</v></c>', '<c r="C6000"><f>C2*2</f></c>'
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    with pytest.raises(LoadError, match=r"dataset1.xlsx: DATA!C6000: a formula \(=C2\*2\) without a cached value"):
        load_partition(STORE.name, DAY)
    assert rows("orders", ORDERS) == []
