"""City tiers against a real warehouse: the revenue model is a hand-made table here, not dbt's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from elt import warehouse
from elt.sources.store_orders import CITY_TIERS_DDL
from elt.tiers import tier_cities
from elt.warehouse import TRANSFORMER, ServerParams

DAY, OTHER_DAY, EMPTY_DAY = date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)

REVENUE_DDL = """
create table intermediate.int_store_orders__city_revenue (
    order_date date not null,
    city_code text not null,
    revenue_rmb numeric,
    primary key (order_date, city_code)
)
"""

# Three groups a factor of about 100 apart: 2 giants, 4 middle cities, 5 small ones (codes as in china_cities).
GIANTS = {"310000": "12000000.00", "110000": "9500000.50"}
MIDDLE = {"440100": "150000.00", "330100": "120000.00", "510100": "98000.00", "420100": "87000.25"}
SMALL = {"341500": "1200.00", "622900": "950.00", "540600": "900.00", "632800": "1100.00", "653200": "800.00"}
# The unknown locations' revenue, far above every city: tiered, it would be a tier of its own.
UNKNOWN = "990000000.00"
EXPECTED = {**dict.fromkeys(GIANTS, 1), **dict.fromkeys(MIDDLE, 2), **dict.fromkeys(SMALL, 3)}


def tiers_rows(params: ServerParams) -> list[tuple]:
    with warehouse.connect(params) as conn:
        return conn.execute(
            "select order_date, city_code, sales_tier from intermediate.store_city_sales_tiers order by 1, 2"
        ).fetchall()


@pytest.fixture
def revenue(warehouse_params: ServerParams) -> ServerParams:
    """The two tables, handed to dbt's role by the bootstrap (as the source's ddl will be), and two days of revenue."""
    rows = [(DAY, city, Decimal(r)) for city, r in {**GIANTS, **MIDDLE, **SMALL}.items()]
    rows += [(DAY, "unknown", Decimal(UNKNOWN)), (DAY, "650100", None)]
    rows += [(OTHER_DAY, "310000", Decimal("500.00")), (OTHER_DAY, "110000", Decimal("400.00"))]
    with warehouse.connect(warehouse_params) as conn:
        conn.execute(REVENUE_DDL)
        conn.execute(CITY_TIERS_DDL)
        with conn.cursor() as cur:
            cur.executemany("insert into intermediate.int_store_orders__city_revenue values (%s, %s, %s)", rows)
    warehouse.bootstrap(warehouse_params)
    return warehouse.role_params(TRANSFORMER, warehouse_params)


def test_cities_are_tiered_by_revenue_and_the_unknown_row_is_not(revenue: ServerParams) -> None:
    result = tier_cities(DAY, 3, params=revenue)
    assert tiers_rows(revenue) == [(DAY, city, tier) for city, tier in sorted(EXPECTED.items())]
    assert (result.cities, result.excluded, result.tiers_asked) == (11, 2, 3)
    assert result.sizes == {1: 2, 2: 4, 3: 5}
    assert result.ranges == {
        1: (Decimal("9500000.50"), Decimal("12000000.00")),
        2: (Decimal("87000.25"), Decimal("150000.00")),
        3: (Decimal("800.00"), Decimal("1200.00")),
    }
    assert result.breaks == (Decimal("9500000.50"), Decimal("87000.25"), Decimal("800.00"))


def test_a_rerun_gives_the_same_rows_and_leaves_other_days(revenue: ServerParams) -> None:
    tier_cities(OTHER_DAY, 3, params=revenue)
    tier_cities(DAY, 3, params=revenue)
    before = tiers_rows(revenue)
    assert [r for r in before if r[0] == OTHER_DAY] == [(OTHER_DAY, "110000", 2), (OTHER_DAY, "310000", 1)]
    tier_cities(DAY, 3, params=revenue)
    assert tiers_rows(revenue) == before


def test_a_rerun_replaces_the_days_rows(revenue: ServerParams, warehouse_params: ServerParams) -> None:
    tier_cities(DAY, 3, params=revenue)
    with warehouse.connect(warehouse_params) as conn:
        conn.execute("delete from intermediate.int_store_orders__city_revenue where city_code = '653200'")
        conn.execute(
            "update intermediate.int_store_orders__city_revenue set revenue_rmb = 130000 where city_code = '341500'"
        )
    result = tier_cities(DAY, 3, params=revenue)
    rows = dict((city, tier) for _day, city, tier in tiers_rows(revenue))
    assert "653200" not in rows and rows["341500"] == 2
    assert result.sizes == {1: 2, 2: 5, 3: 3}


def test_fewer_cities_than_tiers_and_an_empty_day(revenue: ServerParams) -> None:
    result = tier_cities(OTHER_DAY, 5, params=revenue)
    assert result.sizes == {1: 1, 2: 1}
    empty = tier_cities(EMPTY_DAY, 5, params=revenue)
    assert (empty.cities, empty.sizes, empty.breaks) == (0, {}, ())


def test_the_setting_gives_the_number_of_tiers(revenue: ServerParams, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE_ORDERS_CITY_TIERS", "2")
    result = tier_cities(DAY, params=revenue)
    assert (result.tiers_asked, result.sizes) == (2, {1: 6, 2: 5})
    with pytest.raises(ValueError, match="at least 1"):
        tier_cities(DAY, 0, params=revenue)


def test_a_failure_leaves_the_days_rows(revenue: ServerParams, warehouse_params: ServerParams) -> None:
    tier_cities(DAY, 3, params=revenue)
    before = tiers_rows(revenue)
    with warehouse.connect(warehouse_params) as conn:
        conn.execute(
            "alter table intermediate.store_city_sales_tiers add constraint two_tiers check (sales_tier <= 2) not valid"
        )
    with pytest.raises(psycopg.errors.CheckViolation):
        tier_cities(DAY, 3, params=revenue)
    assert tiers_rows(revenue) == before
