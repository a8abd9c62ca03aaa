"""The store_orders source end to end below Airflow, in store_orders_daily's order: a hand-made day through the real
loader, the reference seeds, the GX suites, the day's exchange rates, dbt (staging and intermediate), the city
tiers and dbt (the marts), against hand-computed rows of every mart.

The day, 2024-01-10 (Pacific standard time, UTC-8; China is UTC+8, so China's clock is 16 hours ahead), has a
workbook (sheet DATA: rows 2-12; sheet CITY_DISTRICT_MAP: rows 2-7) and a JSON array (records 0-8) with: a `time`
cell, district id 999999, USD orders, a fractional and an empty quantity, 山南 and 山南市, 朝阳区 of 北京 and of 长春,
an order at 23:59:59 Pacific, a city known only by its short name (东莞) that has no districts (its district is
东莞市 itself), a map row whose district is in no reference (北京 不存在区), a city in no reference (火星), and
errors that are quarantined: an unreadable hour (250000), a negative amount, a currency other than RMB/USD, and an
order id in both feeds.

The whole day is loaded and built once for the module; the last test runs it again and finds nothing changed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import psycopg
import pytest

from elt import warehouse
from elt.fx import cny_rate
from elt.generate.workbook import write_workbook
from elt.load import load_partition
from elt.quality import validate_table
from elt.sources import get_source
from elt.store_orders import record_fx_rates
from elt.tiers import tier_cities

if TYPE_CHECKING:
    from conftest import ModuleWarehouse

DAY = date(2024, 1, 10)
D = Decimal
XLSX = f"store_orders/{DAY}/dataset1.xlsx"
JSON = f"store_orders/{DAY}/dataset2.json"
BJ, CC, SH, SN, DG, UNKNOWN = "110000", "220100", "310000", "540500", "441900", "unknown"

# The ECB's USD rate of that Wednesday, CNY per USD (asserted against elt.fx below, so a different rates file fails
# loudly rather than silently changing the expected amounts).
USD_RATE = D("7.16937694")
USD_10 = D("71.69")  # 10.00 USD x 7.16937694 = 71.6937694
USD_12_34 = D("88.47")  # 12.34 USD x 7.16937694 = 88.4701114396

DATA_HEADER = ["ORDER_ID", "ORDER_TIME  (PST)", "CITY_DISTRICT_ID", "RPTG_AMT", "CURRENCY_CD", "ORDER_QTY"]
DATA = [  # sheet rows 2..12; Pacific time -> hour_pacific, hour_china (China = Pacific + 16 h)
    ["G0000000001", 50127, 101, 100.5, "RMB", 2],  # 05:01:27 -> 5, 21: 北京 朝阳区
    ["G0000000002", "time", 101, 88, "RMB", 1],  # error: the text `time`
    ["G0000000003", 93000, 999999, 50, "RMB", 1],  # 09:30 -> 9, 1 (next day): id in no map, warn, unknown
    ["G0000000004", 120000, 102, 10, "USD", 1],  # 12:00 -> 12, 4: 长春 朝阳区, 10 USD = 71.69 RMB
    ["G0000000005", 235959, 103, 300, "RMB", 1.5],  # 23:59:59 -> 23, 15: 上海 浦东新区; 1.5 units: warn, no units
    ["G0000000006", 50127.0, 104, 20, "RMB", 1],  # a float cell, loaded as 50127 -> 5, 21: 山南 乃东区
    ["G0000000007", 130000, 105, 60, "RMB", 3],  # 13:00 -> 13, 5: 东莞 东莞市 (a city without districts)
    ["G0000000008", 131500, 106, 40, "RMB", 1],  # 13:15 -> 13, 5: 北京 不存在区: warn, 北京 with district unknown
    ["G0000000009", 140000, 103, -5, "RMB", 1],  # error: amount not positive
    ["G0000000010", 140000, 103, 15, "RMB", 1],  # error: the id is in the JSON too
    ["G0000000011", 140000, 103, 15, "EUR", 1],  # error: currency not RMB/USD
]
MAP_HEADER = ["CITY_DISTRICT_ID", "SHIP_TO_CITY_CD", "SHIP_TO_DISTRICT_NAME"]
MAP = [  # sheet rows 2..7
    [101, "北京", "朝阳区"],
    [102, "长春", "朝阳区"],
    [103, "上海", "浦东新区"],
    [104, "山南", "乃东区"],
    [105, "东莞", "东莞市"],
    [106, "北京", "不存在区"],  # warn: no such district in Beijing
]
KEYS = (
    "ORDER_ID",
    "ORDER_TIME_PST",
    "SHIP_TO_DISTRICT_NAME",
    "SHIP_TO_CITY_CD",
    "RPTG_AMT",
    "CURRENCY_CD",
    "ORDER_QTY",
)
RECORDS = [  # array indexes 0..8
    ["G0000000101", 50000, "乃东区", "山南", 30, "RMB", 1],  # 05:00 -> 5, 21
    ["G0000000102", 50500.0, "乃东区", "山南市", 40, "RMB", 2],  # loaded as 50500.0: 05:05 -> 5, 21; 山南市 is 山南
    ["G0000000103", 210000, "朝阳区", "北京", 200, "RMB", 1],  # 21:00 -> 21, 13 (next day)
    ["G0000000104", 210000, "朝阳区", "长春", 70, "RMB", 1],  # 21:00 -> 21, 13
    ["G0000000105", 60000, "某区", "火星", 25, "RMB", 1],  # 06:00 -> 6, 22: warn, unknown
    ["G0000000106", 250000, "朝阳区", "北京", 99, "RMB", 1],  # error: hour 25
    ["G0000000010", 140000, "朝阳区", "北京", 15, "RMB", 1],  # error: the id is in the workbook too
    ["G0000000107", 120000, "浦东新区", "上海", 12.34, "USD", None],  # 12:00 -> 12, 4; 88.47 RMB; warn, no units
    ["G0000000108", 10000, "海淀区", "北京", 80, "RMB", 1],  # 01:00 -> 1, 17
]

# The orders that pass, hand-resolved: feed, source row, order id, city, district, amount_rmb, units, hours
ORDERS = [
    ("json", 0, "G0000000101", SN, "540502", D("30.00"), 1, 5, 21),
    ("json", 1, "G0000000102", SN, "540502", D("40.00"), 2, 5, 21),
    ("json", 2, "G0000000103", BJ, "110105", D("200.00"), 1, 21, 13),
    ("json", 3, "G0000000104", CC, "220104", D("70.00"), 1, 21, 13),
    ("json", 4, "G0000000105", UNKNOWN, UNKNOWN, D("25.00"), 1, 6, 22),
    ("json", 7, "G0000000107", SH, "310115", USD_12_34, None, 12, 4),
    ("json", 8, "G0000000108", BJ, "110108", D("80.00"), 1, 1, 17),
    ("xlsx", 2, "G0000000001", BJ, "110105", D("100.50"), 2, 5, 21),
    ("xlsx", 4, "G0000000003", UNKNOWN, UNKNOWN, D("50.00"), 1, 9, 1),
    ("xlsx", 5, "G0000000004", CC, "220104", USD_10, 1, 12, 4),
    ("xlsx", 6, "G0000000005", SH, "310115", D("300.00"), None, 23, 15),
    ("xlsx", 7, "G0000000006", SN, "540502", D("20.00"), 1, 5, 21),
    ("xlsx", 8, "G0000000007", DG, DG, D("60.00"), 3, 13, 5),
    ("xlsx", 9, "G0000000008", BJ, UNKNOWN, D("40.00"), 1, 13, 5),
]

NAMES = {  # city_code: city_en, city_zh, province_en
    BJ: ("Beijing", "北京市", "Beijing"),
    CC: ("Changchun", "长春市", "Jilin"),
    SH: ("Shanghai", "上海市", "Shanghai"),
    SN: ("Shannan", "山南市", "Tibet"),
    DG: ("Dongguan", "东莞市", "Guangdong"),
    UNKNOWN: ("Unknown", None, None),
}

SALES_HOURLY = [  # city_code, hour_pacific, hour_china, orders, units, revenue_rmb
    (BJ, 1, 17, 1, 1, D("80.00")),
    (BJ, 5, 21, 1, 2, D("100.50")),
    (BJ, 13, 5, 1, 1, D("40.00")),
    (BJ, 21, 13, 1, 1, D("200.00")),
    (CC, 12, 4, 1, 1, USD_10),
    (CC, 21, 13, 1, 1, D("70.00")),
    (SH, 12, 4, 1, 0, USD_12_34),  # no units known: 0
    (SH, 23, 15, 1, 0, D("300.00")),  # the fractional quantity adds no units; the order and amount count
    (DG, 13, 5, 1, 3, D("60.00")),
    (SN, 5, 21, 3, 4, D("90.00")),  # 山南 (20, 30) and 山南市 (40): one city
    (UNKNOWN, 6, 22, 1, 1, D("25.00")),
    (UNKNOWN, 9, 1, 1, 1, D("50.00")),
]

TOP_CITY_BY_HOUR = [  # hour_china, city_code, orders, revenue_rmb, hour_orders, hour_revenue_rmb, share, best of day
    (1, None, None, None, 1, D("50.00"), None, False),  # only the unknown location: no city
    (4, SH, 1, D("88.47"), 2, D("160.16"), D("0.5524"), False),  # 88.47 / (71.69 + 88.47)
    (5, DG, 1, D("60.00"), 2, D("100.00"), D("0.6000"), False),  # 60 / (60 + 40)
    (13, BJ, 1, D("200.00"), 2, D("270.00"), D("0.7407"), False),  # 200 / 270
    (15, SH, 1, D("300.00"), 1, D("300.00"), D("1.0000"), True),  # the day's best city-hour: 23:59:59 Pacific
    (17, BJ, 1, D("80.00"), 1, D("80.00"), D("1.0000"), False),
    (21, BJ, 1, D("100.50"), 4, D("190.50"), D("0.5276"), False),  # 100.50 beats 山南's 20 + 30 + 40 = 90
    (22, None, None, None, 1, D("25.00"), None, False),
]

DISTRICT_SALES = [  # city_code, district_code, district_en, orders, revenue_rmb
    (BJ, "110105", "Chaoyang District", 2, D("300.50")),
    (BJ, "110108", "Haidian District", 1, D("80.00")),
    (BJ, UNKNOWN, "Unknown", 1, D("40.00")),
    (CC, "220104", "Chaoyang District", 2, D("141.69")),  # 长春's 朝阳区, not Beijing's
    (SH, "310115", "Pudong New Area", 2, D("388.47")),
    (DG, DG, "Dongguan", 1, D("60.00")),
    (SN, "540502", "Naidong District", 3, D("90.00")),
    (UNKNOWN, UNKNOWN, "Unknown", 2, D("75.00")),
]

# Revenue: 北京 420.50, 上海 388.47, 长春 141.69, 山南 90.00, 东莞 60.00; unknown 75.00; the day 1175.66.
# Five cities with five different revenues in five tiers: one city a tier, by rank.
CITY_SUMMARY = [
    # city, districts, revenue, avg per district, orders, avg order value, sales_tier, official_tier
    (BJ, 2, D("420.50"), D("190.25"), 4, D("105.13"), 1, D("1.0")),  # (300.50 + 80) / 2; 420.50 / 4 = 105.125
    (CC, 1, D("141.69"), D("141.69"), 2, D("70.85"), 3, None),  # 141.69 / 2 = 70.845
    (SH, 1, D("388.47"), D("388.47"), 2, D("194.24"), 2, D("1.0")),  # 388.47 / 2 = 194.235
    (DG, 1, D("60.00"), D("60.00"), 1, D("60.00"), 5, D("1.5")),
    (SN, 1, D("90.00"), D("90.00"), 3, D("30.00"), 4, None),
    (UNKNOWN, 0, D("75.00"), None, 2, D("37.50"), None, None),
]

CITY_TIERS = [  # tier, cities, min_revenue, max_revenue, revenue_share (of 1175.66)
    (1, 1, D("420.50"), D("420.50"), D("0.3577")),  # 0.357671...
    (2, 1, D("388.47"), D("388.47"), D("0.3304")),  # 0.330427...
    (3, 1, D("141.69"), D("141.69"), D("0.1205")),  # 0.120519...
    (4, 1, D("90.00"), D("90.00"), D("0.0766")),  # 0.076552...
    (5, 1, D("60.00"), D("60.00"), D("0.0510")),  # 0.051035...
    (None, 0, None, None, D("0.0638")),  # the unknown location: 75 / 1175.66 = 0.063794...
]

EXCEPTIONS = {  # table, file, row, rule, severity, bad value
    ("orders_sheet", XLSX, 3, "order_time_readable", "error", "time"),
    ("orders_sheet", XLSX, 4, "location_known", "warn", "999999"),
    ("orders_sheet", XLSX, 6, "quantity_whole", "warn", "1.5"),
    ("orders_sheet", XLSX, 9, "location_known", "warn", "106"),
    ("orders_sheet", XLSX, 10, "amount_is_positive_number", "error", "-5"),
    ("orders_sheet", XLSX, 11, "order_id_unique_in_day", "error", "G0000000010"),
    ("orders_sheet", XLSX, 12, "currency_known", "error", "EUR"),
    ("city_district_map", XLSX, 7, "location_known", "warn", "不存在区"),
    ("orders_json", JSON, 4, "location_known", "warn", "某区"),
    ("orders_json", JSON, 5, "order_time_readable", "error", "250000"),
    ("orders_json", JSON, 6, "order_id_unique_in_day", "error", "G0000000010"),
    ("orders_json", JSON, 7, "quantity_whole", "warn", None),
}

MART_QUERIES = {
    "store_sales_hourly": "select * from marts.store_sales_hourly order by city_code, hour_pacific, hour_china",
    "store_top_city_by_hour": "select * from marts.store_top_city_by_hour order by order_date, hour_china",
    "store_district_sales": "select * from marts.store_district_sales order by city_code, district_code",
    "store_city_summary": "select * from marts.store_city_summary order by city_code",
    "store_city_tiers": "select * from marts.store_city_tiers order by tier nulls last",
    "dim_china_city": "select * from marts.dim_china_city order by city_code",
}


def land(landing: Path) -> None:
    folder = landing / "store_orders" / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    write_workbook(folder / "dataset1.xlsx", {"DATA": [DATA_HEADER, *DATA], "CITY_DISTRICT_MAP": [MAP_HEADER, *MAP]})
    with (folder / "dataset2.json").open("w", encoding="utf-8") as file:
        json.dump([dict(zip(KEYS, record, strict=True)) for record in RECORDS], file, ensure_ascii=False, indent=0)


def run_day(built: ModuleWarehouse) -> None:
    """store_orders_daily's steps for DAY, in its order (the validation without its error-share verdict: the
    hand-made day is mostly bad rows)."""
    dates = json.dumps({"run_date": DAY.isoformat(), "data_interval_end": (DAY + timedelta(days=1)).isoformat()})

    def dbt(*args: str) -> None:
        result = built.run_dbt(*args, vars=dates)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]

    load_partition("store_orders", DAY, built.landing)
    dbt("seed", "--select", "tag:store_orders_reference")
    source = get_source("store_orders")
    for table in source.tables:
        validate_table(source, table, DAY)
    record_fx_rates(DAY)
    dbt("build", "--select", "tag:store_orders", "--exclude", "tag:store_orders_marts")
    tier_cities(DAY)
    dbt("build", "--select", "tag:store_orders_marts")


def query(sql: str) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def built(module_warehouse: ModuleWarehouse) -> ModuleWarehouse:
    land(module_warehouse.landing)
    run_day(module_warehouse)
    return module_warehouse


def test_the_usd_rate_is_the_ecbs() -> None:
    rate = cny_rate("USD", DAY)
    assert (rate.cny_per_unit, rate.ecb_date) == (USD_RATE, DAY)
    assert (D("10.00") * USD_RATE).quantize(D("0.01")) == USD_10
    assert (D("12.34") * USD_RATE).quantize(D("0.01")) == USD_12_34


def test_orders_are_typed_located_and_converted(built: ModuleWarehouse) -> None:
    rows = query(
        "select feed, source_row, order_id, city_code, district_code, amount_rmb, units, hour_pacific, hour_china"
        " from intermediate.int_store_orders__orders order by feed, source_row"
    )
    assert rows == ORDERS
    files = query("select feed, source_file, count(*) from intermediate.int_store_orders__orders group by 1, 2")
    assert sorted(files) == [("json", JSON, 7), ("xlsx", XLSX, 7)]
    rates = query(
        "select currency, fx_rate, ecb_date, count(*) from intermediate.int_store_orders__orders group by 1, 2, 3"
    )
    assert sorted(rates) == [("RMB", D("1.00000000"), DAY, 12), ("USD", USD_RATE, DAY, 2)]
    # 23:59:59 Pacific on the 10th is the 11th in UTC (07:59:59) and in China (15:59:59)
    (last,) = query("select order_at from intermediate.int_store_orders__orders where order_id = 'G0000000005'")
    assert last[0] == datetime(2024, 1, 11, 7, 59, 59, tzinfo=UTC)
    assert last[0].astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None) == datetime(2024, 1, 11, 15, 59, 59)
    (first,) = query("select order_at from intermediate.int_store_orders__orders where order_id = 'G0000000001'")
    assert first[0] == datetime(2024, 1, 10, 13, 1, 27, tzinfo=UTC)  # 50127 is 05:01:27 Pacific
    (decimal,) = query(
        "select raw.order_time_pst, orders.order_at from raw_store_orders.orders_json as raw"
        " join intermediate.int_store_orders__orders as orders using (order_id) where order_id = 'G0000000102'"
    )
    assert decimal == ("50500.0", datetime(2024, 1, 10, 13, 5, tzinfo=UTC))


def test_store_sales_hourly(built: ModuleWarehouse) -> None:
    expected = [
        (DAY, city, *NAMES[city], hour_pacific, hour_china, orders, units, revenue)
        for city, hour_pacific, hour_china, orders, units, revenue in SALES_HOURLY
    ]
    assert query(MART_QUERIES["store_sales_hourly"]) == expected


def test_store_top_city_by_hour(built: ModuleWarehouse) -> None:
    expected = [
        (DAY, hour, city, *(NAMES[city] if city else (None, None, None)), *rest)
        for hour, city, *rest in TOP_CITY_BY_HOUR
    ]
    assert query(MART_QUERIES["store_top_city_by_hour"]) == expected


def test_store_district_sales(built: ModuleWarehouse) -> None:
    assert query(MART_QUERIES["store_district_sales"]) == [(DAY, *row) for row in DISTRICT_SALES]


def test_store_city_summary(built: ModuleWarehouse) -> None:
    expected = [(DAY, city, NAMES[city][0], NAMES[city][2], *rest) for city, *rest in CITY_SUMMARY]
    assert query(MART_QUERIES["store_city_summary"]) == expected


def test_store_city_tiers(built: ModuleWarehouse) -> None:
    assert query(MART_QUERIES["store_city_tiers"]) == [(DAY, *row) for row in CITY_TIERS]


def test_dim_china_city_has_every_city(built: ModuleWarehouse) -> None:
    seed = Path(__file__).parents[2] / "dbt_project" / "seeds" / "store_orders" / "china_cities.csv"
    cities = len(seed.read_text(encoding="utf-8").splitlines()) - 1
    rows = {row[0]: row for row in query(MART_QUERIES["dim_china_city"])}
    assert len(rows) == cities == 369
    assert rows[SN] == (SN, "山南市", ["山南", "山南地区"], "Shannan", "西藏自治区", "Tibet", "reviewed")
    assert rows[BJ] == (BJ, "北京市", ["北京"], "Beijing", "北京市", "Beijing", "reviewed")
    assert rows[DG] == (DG, "东莞市", ["东莞"], "Dongguan", "广东省", "Guangdong", "reviewed")
    assert rows["652800"][1:4] == (
        "巴音郭楞蒙古自治州",
        ["巴音郭楞", "巴音郭楞州"],
        "Bayingolin Mongol Autonomous Prefecture",
    )


def test_every_bad_row_is_an_exception(built: ModuleWarehouse) -> None:
    rows = query(
        "select table_name, source_file, source_row, rule, severity, bad_value from audit.dq_exceptions"
        " where source = 'store_orders' and partition_date = '2024-01-10'"
    )
    assert len(rows) == len(set(rows))
    assert set(rows) == EXCEPTIONS


def snapshot() -> dict[str, list[tuple]]:
    """Everything the day's run wrote, but the load batches and the times it ran at."""
    tables = {
        **MART_QUERIES,
        "orders": "select * from intermediate.int_store_orders__orders order by feed, source_row",
        "city_revenue": "select * from intermediate.int_store_orders__city_revenue order by city_code",
        "sales_tiers": "select * from intermediate.store_city_sales_tiers order by city_code",
        "fx_rates": "select * from raw_store_orders.fx_rates order by currency",
        "exceptions": "select table_name, source_file, source_row, column_name, rule, severity, bad_value, message"
        " from audit.dq_exceptions order by 1, 2, 3, 5",
    }
    with warehouse.connect() as conn:
        conn.row_factory = psycopg.rows.dict_row
        return {
            name: [{k: v for k, v in row.items() if k != "batch_id"} for row in conn.execute(sql).fetchall()]
            for name, sql in tables.items()
        }


def test_a_rerun_changes_nothing(built: ModuleWarehouse) -> None:
    before = snapshot()
    assert all(before.values())
    run_day(built)
    assert snapshot() == before
