"""marts.customer_segments on a hand-made input: every column hand-computed, and an old week recomputed."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from elt import warehouse
from elt.load import load_partition
from elt.quality import validate_partition
from elt.sources.thelook import TABLES

SNAPSHOT, DELTA, AFTER_T = date(2024, 9, 1), date(2024, 9, 8), date(2024, 9, 10)
# weekly runs as of these Mondays; last year = [T - 365 days, T)
T, NEXT_T, BEFORE_DATA_T = date(2024, 9, 9), date(2024, 9, 16), date(2024, 8, 26)
ONE_DEGREE_KM = Decimal("111.195")  # 6371 km x pi / 180, rounded to metres

CENTRES = [
    {"id": "1", "name": "West", "latitude": "0", "longitude": "-1"},
    {"id": "2", "name": "East", "latitude": "0.0", "longitude": "1"},
    {"id": "3", "name": "North", "latitude": "10", "longitude": "0"},
]


def user(uid: int, age: int, gender: str, country: str, state: str, lat: str, lon: str, created: str) -> dict:
    return {
        "id": str(uid), "first_name": "Ana", "last_name": "Lima", "email": f"u{uid}@example.com", "age": str(age),
        "gender": gender, "state": state, "street_address": "Rua 1", "postal_code": "01310-000", "city": "null",
        "country": country, "latitude": lat, "longitude": lon, "traffic_source": "Search", "created_at": created,
    }  # fmt: skip


def item(iid: int, order: int, uid: int, product: int, status: str, created: str, price: str, **more: str) -> dict:
    return {
        "id": str(iid), "order_id": str(order), "user_id": str(uid), "product_id": str(product), "status": status,
        "created_at": created, "sale_price": price, **more,
    }  # fmt: skip


USERS = [
    user(1, 34, "F", "Brasil", "São Paulo", "0", "0", "2022-01-05 10:00:00.000000 UTC"),  # equally near West and East
    user(2, 51, "M", "España", "Madrid", "10", "0", "2023-03-01 08:00:00+00:00"),
    user(3, 27, "F", "United States", "Texas", "0", "2", "2021-07-01 00:00:00"),
    user(4, 45, "M", "Japan", "Tokyo", "", "", "2024-02-02 12:00:00 UTC"),  # no orders, no coordinates
]
PRODUCTS = [
    {"id": str(p), "cost": cost, "retail_price": "200", "name": f"Product {p}", "distribution_center_id": "1"}
    for p, cost in enumerate(["12", "5", "1", "40", "30", "20", "100", "50.01"], 1)
]
# the inventory item's cost (float32 noise for 10) wins over its product's 12
INVENTORY = [{"id": "1001", "product_id": "1", "created_at": "2024-01-01 00:00:00 UTC", "cost": "9.99999976158142"}]
ITEMS = [
    # user 1: spend exactly 50 (Level 1); a cancelled item does not count
    item(101, 11, 1, 1, "Complete", "2024-09-01 10:00:00 UTC", "30.0000001", inventory_item_id="1001"),
    item(102, 11, 1, 2, "Complete", "2024-09-01 10:00:00.000000 UTC", "19.9999995529651"),
    item(103, 12, 1, 3, "Cancelled", "2024-08-20 09:00:00+00:00", "99"),
    # user 2: spend exactly 150 (Level 2): one item returned before T; another one returned only after T
    item(201, 21, 2, 4, "Complete", "2024-06-01 12:00:00", "100"),
    item(202, 22, 2, 5, "Returned", "2024-07-01 12:00:00", "70", returned_at="2024-07-10 12:00:00"),
    item(203, 22, 2, 6, "Complete", "2024-07-01 12:00:00", "50"),
    # user 3: an item older than a year; spend 150.01 (Level 3) from an item cancelled only after T
    item(301, 31, 3, 7, "Complete", "2023-09-09 12:00:00", "500"),
]
DELTA_ITEMS = [item(302, 32, 3, 8, "Processing", "2024-09-08 23:00:00 UTC", "150.01")]
AFTER_T_ITEMS = [
    item(203, 22, 2, 6, "Returned", "2024-07-01 12:00:00", "50", returned_at="2024-09-10 08:00:00"),
    item(302, 32, 3, 8, "Cancelled", "2024-09-08 23:00:00 UTC", "150.01"),
]
AFTER_T_USERS = [user(5, 22, "F", "China", "Beijing", "10", "0", "2024-09-10 09:00:00 UTC")]

COLUMNS = (
    "user_id, age, gender, country, state, nearest_distribution_center_id, nearest_distribution_center, distance_km,"
    " items_last_year, returned_items_last_year, return_rate, spend_last_year, profit_level, margin_last_year,"
    " recency_days, frequency_orders_last_year, r_score, f_score, m_score, clv_estimate"
)
D = Decimal
EXPECTED_T = [
    # recency: 8, 70, 1 days -> r 4, 2, 5 of 3 buyers; frequency 1, 2, 1 -> f 4, 5, 4; spend -> m 2, 4, 5
    (1, 34, "F", "Brasil", "São Paulo", 1, "West", ONE_DEGREE_KM, 2, 0, D("0.0000"), D("50.00"), "Level 1",
     D("35.00"), 8, 1, 4, 4, 2, D("150.00")),
    (2, 51, "M", "España", "Madrid", 3, "North", D("0.000"), 3, 1, D("0.3333"), D("150.00"), "Level 2",
     D("90.00"), 70, 2, 2, 5, 4, D("450.00")),
    (3, 27, "F", "United States", "Texas", 2, "East", ONE_DEGREE_KM, 1, 0, D("0.0000"), D("150.01"), "Level 3",
     D("100.00"), 1, 1, 5, 4, 5, D("450.03")),
    (4, 45, "M", "Japan", "Tokyo", None, None, None, 0, 0, None, D("0"), "Level 1",
     D("0"), None, 0, None, None, None, None),
]  # fmt: skip


def write(landing: Path, day: date, table: str, rows: list[dict]) -> None:
    """A CSV with the table's contract columns; the columns a row leaves out are empty."""
    columns = next(t for t in TABLES if t.name == table).required
    folder = landing / "thelook" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def load(day: date) -> None:
    load_partition("thelook", day)
    validate_partition("thelook", day)


def segments(as_of: date) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            f"select {COLUMNS} from marts.customer_segments where as_of_date = %s order by user_id", (as_of,)
        ).fetchall()


@pytest.fixture
def build(run_dbt: Callable[..., subprocess.CompletedProcess]) -> Callable[[date], None]:
    """Build the thelook models and the mart as the weekly run for the week ending at `as_of` does."""

    def run(as_of: date) -> None:
        week_start = as_of - timedelta(days=7)
        result = run_dbt(
            "build",
            "--select",
            "tag:thelook tag:customer_segments",
            "--exclude",
            "resource_type:source",
            vars=f"{{run_date: '{week_start}', data_interval_end: '{as_of}'}}",
        )
        assert result.returncode == 0, result.stdout[-3000:]

    return run


def test_hand_made_week_gives_hand_computed_rows(landing: Path, build: Callable[[date], None]) -> None:
    write(landing, SNAPSHOT, "distribution_centers", CENTRES)
    write(landing, SNAPSHOT, "users", USERS)
    write(landing, SNAPSHOT, "products", PRODUCTS)
    write(landing, SNAPSHOT, "inventory_items", INVENTORY)
    write(landing, SNAPSHOT, "order_items", ITEMS)
    write(landing, DELTA, "order_items", DELTA_ITEMS)
    load(SNAPSHOT)
    load(DELTA)
    build(T)
    assert segments(T) == EXPECTED_T
    with warehouse.connect() as conn:
        personal = conn.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
            " and column_name ~ '(name|email|street|postal|address)' and column_name !~ 'distribution_center'"
        ).fetchall()
    assert personal == [], "no personal data reaches marts"

    # a return and a cancellation after T, and a new user, arrive; recomputing T's week gives the same rows
    write(landing, AFTER_T, "order_items", AFTER_T_ITEMS)
    write(landing, AFTER_T, "users", AFTER_T_USERS)
    load(AFTER_T)
    build(T)
    assert segments(T) == EXPECTED_T

    # the next week sees them: user 2 returned 2 of 3 items; user 3 has nothing left in the last year
    build(NEXT_T)
    by_user = {row[0]: row for row in segments(NEXT_T)}
    assert sorted(by_user) == [1, 2, 3, 4, 5]
    assert by_user[2][8:16] == (3, 2, D("0.6667"), D("100.00"), "Level 2", D("60.00"), 77, 2)
    assert by_user[3][8:] == (0, 0, None, D("0"), "Level 1", D("0"), 373, 0, None, None, None, None)
    assert segments(T) == EXPECTED_T, "building the next week keeps T's rows"

    # a week before the first loaded partition: what the first file shows cancelled counts as cancelled
    build(BEFORE_DATA_T)
    by_user = {row[0]: row for row in segments(BEFORE_DATA_T)}
    assert by_user[1][8:16] == (0, 0, None, D("0"), "Level 1", D("0"), None, 0)  # item 103 cancelled, 101-102 later
    assert by_user[2][8:16] == (3, 1, D("0.3333"), D("150.00"), "Level 2", D("90.00"), 56, 2)
