"""record_rates against a real warehouse: rows, idempotency, the caller's transaction, refused table names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from elt import warehouse
from elt.fx import FxRateError, cny_rate, fx_rates_ddl, record_rates
from elt.warehouse import ServerParams

TABLE = "staging.store_fx_rates"
SATURDAY, FRIDAY, MONDAY = date(2024, 3, 16), date(2024, 3, 15), date(2024, 3, 18)


def rows(conn: psycopg.Connection) -> list[tuple]:
    """Every row with its xmin (the transaction that last wrote it): a row rewritten gets a new one."""
    return conn.execute(
        f"select xmin::text, rate_date, currency, cny_per_unit, ecb_date, source from {TABLE} order by 2, 3"
    ).fetchall()


@pytest.fixture
def conn(warehouse_params: ServerParams) -> psycopg.Connection:
    with warehouse.connect(warehouse_params) as conn:
        conn.execute(fx_rates_ddl(TABLE))
        conn.commit()
        yield conn


def test_rates_are_written_with_their_ecb_day_and_source(conn: psycopg.Connection) -> None:
    written = record_rates(conn, TABLE, SATURDAY, ["USD", "RMB", "usd"])
    conn.commit()
    usd = cny_rate("USD", SATURDAY)
    assert written == [usd, cny_rate("CNY", SATURDAY)]
    assert [r[1:] for r in rows(conn)] == [
        (SATURDAY, "CNY", Decimal("1.00000000"), SATURDAY, "none: amount already in CNY"),
        (SATURDAY, "USD", Decimal("7.19610723"), FRIDAY, usd.source),
    ]


def test_a_rerun_changes_nothing_and_other_days_stay(conn: psycopg.Connection) -> None:
    record_rates(conn, TABLE, MONDAY, ["USD"])
    record_rates(conn, TABLE, SATURDAY, ["USD", "CNY"])
    conn.commit()
    before = rows(conn)
    record_rates(conn, TABLE, SATURDAY, ["CNY", "USD"])
    conn.commit()
    assert rows(conn) == before  # same values and the same xmin: not even rewritten


def test_a_rerun_replaces_the_days_rows(conn: psycopg.Connection) -> None:
    record_rates(conn, TABLE, SATURDAY, ["USD", "EUR"])
    record_rates(conn, TABLE, MONDAY, ["EUR"])
    conn.execute(f"update {TABLE} set cny_per_unit = 1, source = 'stale' where currency = 'USD'")
    conn.commit()
    record_rates(conn, TABLE, SATURDAY, ["USD"])
    conn.commit()
    assert [(r[1], r[2], r[3], r[5] == cny_rate("USD", SATURDAY).source) for r in rows(conn) if r[2] == "USD"] == [
        (SATURDAY, "USD", Decimal("7.19610723"), True)
    ]
    assert [(r[1], r[2]) for r in rows(conn)] == [(SATURDAY, "USD"), (MONDAY, "EUR")]
    assert record_rates(conn, TABLE, SATURDAY, []) == []  # a day that needs no rate keeps none
    conn.commit()
    assert [(r[1], r[2]) for r in rows(conn)] == [(MONDAY, "EUR")]


def test_it_writes_in_the_callers_transaction(conn: psycopg.Connection) -> None:
    record_rates(conn, TABLE, SATURDAY, ["USD"])
    conn.rollback()
    assert rows(conn) == []


def test_a_missing_rate_writes_nothing(conn: psycopg.Connection) -> None:
    record_rates(conn, TABLE, SATURDAY, ["USD", "EUR"])
    conn.commit()
    before = rows(conn)
    with pytest.raises(FxRateError, match="'XYZ'"):
        record_rates(conn, TABLE, SATURDAY, ["USD", "XYZ"])
    conn.commit()
    assert rows(conn) == before


@pytest.mark.parametrize(
    "name",
    ["store_fx_rates", 'staging."store_fx_rates"', "staging.store_fx_rates; drop table audit.load_log", "Staging.X"],
)
def test_an_invalid_table_name_is_refused(conn: psycopg.Connection, name: str) -> None:
    with pytest.raises(ValueError, match="schema-qualified"):
        record_rates(conn, name, SATURDAY, ["USD"])
    conn.commit()
    assert rows(conn) == []
    assert conn.execute("select to_regclass('audit.load_log') is not null").fetchone() == (True,)
