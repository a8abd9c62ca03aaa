"""The electronics source end to end below Airflow: hand-made files through the real loader, the GX suite and
dbt, against hand-computed rows of every mart.

Partition 2020-03-02 is a first delivery holding history (lines of 2019 and 2020), partition 2020-03-03 a daily
file with late lines: one of an order already delivered (order 986, for 2020-03-02) and one new order of an
earlier day. The first file has an exact duplicate line (two units), an id above 2^53, a 1970 placeholder, a
spreadsheet-mangled id, a negative and a non-numeric price (all quarantined), a line without brand, price or
customer, a price of 0, and two brands tied on revenue. Times are UTC (ELECTRONICS_TIMEZONE unset) except in the
last test.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg

from elt import warehouse

P1, P2 = date(2020, 3, 2), date(2020, 3, 3)
HEADER = "event_time,order_id,product_id,category_id,category_code,brand,price,user_id"
ORD = "22943599320545369"  # order ids: ORD + two digits, 19 digits in all, above 2^53
P = "15159662235090885"  # product ids
U1, U2, U3, U4 = "1515915625441993984", "1515915625441993985", "1515915625441993986", "1515915625441993987"
C = "2268105426648170900"
PHONE, AUDIO = "electronics.smartphone", "electronics.audio.headphone"

FIRST_DELIVERY = [  # file lines 2..16
    f"2020-03-02 10:00:00 UTC,{ORD}86,{P}09,{C},{PHONE},samsung,100.00,{U1}",
    f"2020-03-02 10:00:00 UTC,{ORD}86,{P}09,{C},{PHONE},samsung,100.00,{U1}",  # the same again: a second unit
    f"2020-03-02 10:00:00 UTC,{ORD}86,{P}10,{C},{AUDIO},apple,50.50,{U1}",
    f"2020-03-02 15:30:00 UTC,{ORD}87,{P}11,,,,,",  # no category, brand, price or customer: counts, adds nothing
    f"1970-01-01 00:00:00 UTC,{ORD}88,{P}10,{C},{AUDIO},apple,999.00,{U1}",  # placeholder time: error
    f"2020-03-02 11:00:00 UTC,2.29E+18,{P}10,{C},{AUDIO},apple,999.00,{U1}",  # spreadsheet id: error
    f"2020-03-01 09:00:00 UTC,{ORD}89,{P}12,{C},{PHONE},xiaomi,200.00,{U2}",
    f"2020-02-05 12:00:00 UTC,{ORD}90,{P}09,{C},{PHONE},samsung,100.00,{U2}",
    f"2020-01-10 12:00:00 UTC,{ORD}91,{P}13,{C},{PHONE},huawei,300.00,{U3}",
    f"2019-03-01 08:00:00 UTC,{ORD}92,{P}09,{C},{PHONE},samsung,80.00,{U3}",
    f"2019-03-03 08:00:00 UTC,{ORD}93,{P}09,{C},{PHONE},samsung,70.00,{U3}",
    f"2020-03-02 12:00:00 UTC,{ORD}98,{P}10,{C},{AUDIO},apple,-5.00,{U1}",  # negative price: error
    f"2020-03-02 12:00:00 UTC,{ORD}99,{P}10,{C},{AUDIO},apple,abc,{U1}",  # not a number: error
    f"2020-03-02 20:00:00 UTC,{ORD}94,{P}14,{C},{PHONE},lg,0.00,{U4}",  # price 0: warn, counts
    f"2020-02-20 13:00:00 UTC,{ORD}95,{P}13,{C},{PHONE},huawei,200.00,{U3}",  # ties xiaomi over 4 weeks
]
DAILY = [  # file lines 2..4
    f"2020-03-03 09:00:00 UTC,{ORD}96,{P}09,{C},{PHONE},samsung,100.00,{U1}",
    f"2020-03-02 10:00:00 UTC,{ORD}86,{P}10,{C},{AUDIO},apple,50.50,{U1}",  # late line of order 986
    f"2020-02-28 23:30:00 UTC,{ORD}97,{P}12,{C},{PHONE},xiaomi,100.00,{U2}",  # late new order of an earlier day
]

D = Decimal
SALES_DAILY = [  # sale_date, revenue, orders, units, customers, avg_order_value
    (date(2019, 3, 1), D("80.00"), 1, 1, 1, D("80.00")),
    (date(2019, 3, 3), D("70.00"), 1, 1, 1, D("70.00")),
    (date(2020, 1, 10), D("300.00"), 1, 1, 1, D("300.00")),
    (date(2020, 2, 5), D("100.00"), 1, 1, 1, D("100.00")),
    (date(2020, 2, 20), D("200.00"), 1, 1, 1, D("200.00")),
    (date(2020, 2, 28), D("100.00"), 1, 1, 1, D("100.00")),
    (date(2020, 3, 1), D("200.00"), 1, 1, 1, D("200.00")),
    # orders 986 (5 lines, one late), 987 (no price, no customer), 994 (price 0): 301.00 / 3
    (date(2020, 3, 2), D("301.00"), 3, 6, 2, D("100.33")),
    (date(2020, 3, 3), D("100.00"), 1, 1, 1, D("100.00")),
]
SALES_MONTHLY = [  # month, revenue, orders, units, customers, avg_order_value, revenue_change_pct
    (date(2019, 3, 1), D("150.00"), 2, 2, 1, D("75.00"), None),
    (date(2020, 1, 1), D("300.00"), 1, 1, 1, D("300.00"), None),
    (date(2020, 2, 1), D("400.00"), 3, 3, 2, D("133.33"), D("33.33")),
    (date(2020, 3, 1), D("601.00"), 5, 8, 3, D("120.20"), D("50.25")),
]
HOURLY_0302 = [(10, D("301.00"), 1), (15, D("0"), 1), (20, D("0.00"), 1)]  # hour, revenue, orders
KPIS = [  # as_of_date, year, revenue_ytd, orders_ytd, avg_order_value_ytd, revenue_same_period_last_year
    (P1, 2020, D("1050.50"), 7, D("150.07"), D("80.00")),  # as known on 2020-03-02: without the late lines
    (P2, 2020, D("1301.00"), 9, D("144.56"), D("150.00")),  # order 986 counted once
]
BRANDS_4_WEEKS = {  # brand, revenue, orders, rank, previous_revenue, previous_rank, rank_change, revenue_change_pct
    P1: [
        ("samsung", D("300.00"), 2, 1, None, None, None, None),
        ("huawei", D("200.00"), 1, 2, D("300.00"), 1, -1, D("-33.33")),  # tied with xiaomi: alphabetical
        ("xiaomi", D("200.00"), 1, 3, None, None, None, None),
        ("apple", D("50.50"), 1, 4, None, None, None, None),
        ("lg", D("0.00"), 1, 5, None, None, None, None),
    ],
    P2: [
        ("samsung", D("400.00"), 3, 1, None, None, None, None),
        ("xiaomi", D("300.00"), 2, 2, None, None, None, None),
        ("huawei", D("200.00"), 1, 3, D("300.00"), 1, -2, D("-33.33")),
        ("apple", D("101.00"), 1, 4, None, None, None, None),
        ("lg", D("0.00"), 1, 5, None, None, None, None),
    ],
}
TOP_PRODUCTS_4_WEEKS_P1 = [  # rank, product_id, brand, revenue, units, orders
    (1, int(f"{P}09"), "samsung", D("300.00"), 3, 2),
    (2, int(f"{P}12"), "xiaomi", D("200.00"), 1, 1),  # tied with 13: the smaller id first
    (3, int(f"{P}13"), "huawei", D("200.00"), 1, 1),
    (4, int(f"{P}10"), "apple", D("50.50"), 1, 1),
    (5, int(f"{P}11"), None, D("0"), 1, 1),
    (6, int(f"{P}14"), "lg", D("0.00"), 1, 1),
]
QUARANTINED = {(6, "event_time_not_placeholder"), (7, "order_id_is_integer"), (13, "price_is_non_negative_number"),
               (14, "price_is_non_negative_number")}  # fmt: skip


AS_OF_MARTS = ("electronics_kpis", "electronics_brand_ranking", "electronics_top_products")
KPI_COLUMNS = "as_of_date, year, revenue_ytd, orders_ytd, avg_order_value_ytd, revenue_same_period_last_year"


def land(landing: Path, day: date, name: str, lines: list[str]) -> None:
    folder = landing / "electronics" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join([HEADER, *lines]) + "\n")


def marts(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    def rows(query: str) -> list[tuple]:
        return conn.execute(query).fetchall()

    return {
        "daily": rows("select * from marts.electronics_sales_daily order by 1"),
        "monthly": rows("select * from marts.electronics_sales_monthly order by 1"),
        "hourly": rows("select * from marts.electronics_sales_hourly order by 1, 2"),
        "kpis": rows(f"select {KPI_COLUMNS} from marts.electronics_kpis order by 1"),
        "brands": rows("select * from marts.electronics_brand_ranking order by 1, 2, rank"),
        "products": rows("select * from marts.electronics_top_products order by 1, 2, rank"),
        "lines": rows("select * from marts.electronics_order_lines order by partition_date, source_row"),
    }


def brands(conn: psycopg.Connection, as_of: date, weeks: int) -> list[tuple]:
    return conn.execute(
        "select brand, revenue, orders, rank, previous_revenue, previous_rank, rank_change, revenue_change_pct"
        " from marts.electronics_brand_ranking where as_of_date = %s and window_weeks = %s order by rank",
        (as_of, weeks),
    ).fetchall()


def test_hand_made_partitions_give_hand_computed_marts(landing: Path, run_partition: Callable[..., None]) -> None:
    land(landing, P1, "kz.csv", FIRST_DELIVERY)
    run_partition("electronics", P1)
    with warehouse.connect() as conn:
        assert conn.execute(
            "select sale_date, revenue, orders, units, customers, avg_order_value"
            " from marts.electronics_sales_daily where sale_date = '2020-03-02'"
        ).fetchall() == [(date(2020, 3, 2), D("250.50"), 3, 5, 2, D("83.50"))]
        assert brands(conn, P1, 4) == BRANDS_4_WEEKS[P1]
        # 52 weeks from 2019-03-05: huawei leads; samsung's 2019 lines fall in the window before
        assert brands(conn, P1, 52)[:2] == [
            ("huawei", D("500.00"), 2, 1, None, None, None, None),
            ("samsung", D("300.00"), 2, 2, D("150.00"), 1, -1, D("100.00")),
        ]
        assert (
            conn.execute(
                "select rank, product_id, brand, revenue, units, orders from marts.electronics_top_products"
                " where as_of_date = %s and window_weeks = 4 order by rank",
                (P1,),
            ).fetchall()
            == TOP_PRODUCTS_4_WEEKS_P1
        )
        # ids stay exact end to end; every bad line is quarantined, with its rule
        assert conn.execute(
            "select order_id, product_id, user_id from marts.electronics_order_lines where source_row = 2"
        ).fetchone() == (int(f"{ORD}86"), int(f"{P}09"), int(U1))
        errors = conn.execute(
            "select source_row, rule from audit.dq_exceptions where source = 'electronics' and severity = 'error'"
        ).fetchall()
        assert set(errors) == QUARANTINED
        assert conn.execute("select count(*) from marts.electronics_order_lines").fetchone()[0] == 11

    land(landing, P2, "purchases.csv", DAILY)
    run_partition("electronics", P2)
    with warehouse.connect() as conn:
        state = marts(conn)
        assert state["daily"] == SALES_DAILY
        assert state["monthly"] == SALES_MONTHLY
        assert [row[1:] for row in state["hourly"] if row[0] == date(2020, 3, 2)] == HOURLY_0302
        assert state["kpis"] == KPIS
        assert brands(conn, P2, 4) == BRANDS_4_WEEKS[P2]
        assert brands(conn, P1, 4) == BRANDS_4_WEEKS[P1], "a later partition changed an earlier run's ranking"

    # a re-run of the last partition, then of the first after it, changes nothing
    run_partition("electronics", P2)
    run_partition("electronics", P1)
    with warehouse.connect() as conn:
        again = marts(conn)
    assert {k: v for k, v in again.items() if k != "lines"} == {k: v for k, v in state.items() if k != "lines"}
    # the lines are the same, under the new batches of the re-loads
    drop_batch = [(r[0], r[1], r[2], *r[4:]) for r in state["lines"]]
    assert [(r[0], r[1], r[2], *r[4:]) for r in again["lines"]] == drop_batch


def test_partitions_committing_out_of_order_give_each_date_its_as_of_rows(
    landing: Path, run_partition: Callable[..., None]
) -> None:
    """A backfill running two dates at once can finish the later, small one first: the earlier partition's run
    must then rebuild the later date's as-of rows, which were made without it."""
    land(landing, P2, "purchases.csv", DAILY)
    run_partition("electronics", P2)
    with warehouse.connect() as conn:
        assert conn.execute(f"select {KPI_COLUMNS} from marts.electronics_kpis").fetchall() == [
            (P2, 2020, D("250.50"), 3, D("83.50"), D("0")),  # only what P2 brought
        ]
    land(landing, P1, "kz.csv", FIRST_DELIVERY)
    run_partition("electronics", P1)

    def as_of_rows(conn: psycopg.Connection, day: date = P2) -> dict[str, list[tuple]]:
        return {
            table: conn.execute(
                f"select xmin::text, * from marts.{table} where as_of_date = %s order by 2, 3, 4", (day,)
            ).fetchall()
            for table in AS_OF_MARTS
        }

    with warehouse.connect() as conn:
        assert conn.execute(f"select {KPI_COLUMNS} from marts.electronics_kpis order by 1").fetchall() == KPIS
        assert brands(conn, P2, 4) == BRANDS_4_WEEKS[P2]
        assert brands(conn, P1, 4) == BRANDS_4_WEEKS[P1]
        before = as_of_rows(conn)

    # re-running the earlier partition with the same file leaves the later date's rows as they are (not rewritten)
    run_partition("electronics", P1)
    with warehouse.connect() as conn:
        assert as_of_rows(conn) == before
    # a date two years on reads sale dates from 2021 on: nothing of 2020's partitions
    later = date(2022, 6, 1)
    land(landing, later, "purchases.csv", [f"2022-06-01 09:00:00 UTC,{ORD}80,{P}09,{C},{PHONE},samsung,90.00,{U1}"])
    run_partition("electronics", later)
    with warehouse.connect() as conn:
        later_rows = as_of_rows(conn, later)
    # with a changed file, the later date is rebuilt: without the 2020-01-10 line, 300.00 less this year
    land(landing, P1, "kz.csv", [line for line in FIRST_DELIVERY if not line.startswith("2020-01-10")])
    run_partition("electronics", P1)
    with warehouse.connect() as conn:
        assert conn.execute(
            f"select {KPI_COLUMNS} from marts.electronics_kpis where as_of_date = %s", (P2,)
        ).fetchall() == [(P2, 2020, D("1001.00"), 8, D("125.13"), D("150.00"))]
        assert as_of_rows(conn, later) == later_rows, "a date the changed lines cannot reach was rewritten"
        # a mart built before rows had a fingerprint gets the column, and its later dates are rebuilt once
        for table in AS_OF_MARTS:
            conn.execute(f"alter table marts.{table} drop column inputs_fingerprint")
        before = as_of_rows(conn)
    run_partition("electronics", P1)
    with warehouse.connect() as conn:
        after = as_of_rows(conn)
        for table in AS_OF_MARTS:
            assert {row[0] for row in after[table]}.isdisjoint(row[0] for row in before[table]), table
            assert [row[1:-1] for row in after[table]] == [row[1:] for row in before[table]], table
            assert all(row[-1] for row in after[table]), table


def test_a_changed_file_rebuilds_the_dates_its_old_lines_fell_on(
    landing: Path, run_partition: Callable[..., None]
) -> None:
    land(landing, P1, "kz.csv", FIRST_DELIVERY)
    run_partition("electronics", P1)
    # the partition's file is replaced by one without the 2020-01-10 line: that date must disappear
    land(landing, P1, "kz.csv", [line for line in FIRST_DELIVERY if not line.startswith("2020-01-10")])
    run_partition("electronics", P1)
    with warehouse.connect() as conn:
        days = [row[0] for row in conn.execute("select sale_date from marts.electronics_sales_daily order by 1")]
        months = conn.execute("select month, revenue from marts.electronics_sales_monthly order by 1").fetchall()
    assert date(2020, 1, 10) not in days
    assert (date(2020, 1, 1), D("300.00")) not in months


def test_sale_dates_and_hours_follow_the_store_time_zone(
    landing: Path, run_partition: Callable[..., None], run_dbt: Callable[..., subprocess.CompletedProcess]
) -> None:
    land(landing, P1, "kz.csv", FIRST_DELIVERY)
    run_partition("electronics", P1, extra_env={"ELECTRONICS_TIMEZONE": "Asia/Almaty"})  # UTC+6 in 2020
    with warehouse.connect() as conn:
        lines = conn.execute(
            "select source_row, sale_date, sale_hour from marts.electronics_order_lines where source_row in (8, 15)"
            " order by 1"
        ).fetchall()
    # 2020-03-01 09:00 UTC is 15:00 in Almaty; 2020-03-02 20:00 UTC is 02:00 the next day
    assert lines == [(8, date(2020, 3, 1), 15), (15, date(2020, 3, 3), 2)]
    bad = run_dbt(
        "run",
        "--select",
        "electronics_order_lines",
        vars="{run_date: '2020-03-02', data_interval_end: '2020-03-03'}",
        extra_env={"ELECTRONICS_TIMEZONE": "Mars/Olympus'; drop table x; --"},
    )
    assert bad.returncode != 0
    assert "ELECTRONICS_TIMEZONE must be an IANA time zone name" in bad.stdout
