"""The exchange-rate step of store_orders_daily: the day's CNY rates of the currencies its orders use.

Amounts are converted to RMB in dbt with the rate kept in `raw_store_orders.fx_rates` for the order's day (elt.fx:
the ECB's reference rates, offline). Only the currencies the day's orders name are looked up, so a day of RMB
orders needs no ECB publication; CNY (rate 1) is always recorded, so every order joins to a rate.
"""

from __future__ import annotations

import logging
from datetime import date

import psycopg
from psycopg import sql

from elt import warehouse
from elt.fx import FxRate, record_rates
from elt.load import partition_lock
from elt.sources.store_orders import FX_RATES_TABLE, ORDERS_JSON, ORDERS_SHEET, SOURCE

log = logging.getLogger(__name__)

CURRENCIES = ("RMB", "USD")  # the codes the suites accept (rule currency_known); RMB is CNY


def day_currencies(conn: psycopg.Connection, day: date) -> list[str]:
    """The known currencies the day's orders name, in both feeds (quarantined rows included: a rate is harmless)."""
    per_table = sql.SQL(" union ").join(
        sql.SQL("select upper(btrim(currency_cd)) from {} where _partition_date = %(day)s").format(
            sql.Identifier(SOURCE.schema, table.name)
        )
        for table in (ORDERS_SHEET, ORDERS_JSON)
    )
    rows = conn.execute(per_table, {"day": day}).fetchall()
    return sorted({code for (code,) in rows if code in CURRENCIES} | {"RMB"})


def record_fx_rates(day: date, params: warehouse.ServerParams | None = None) -> list[FxRate]:
    """Replace the day's rows of raw_store_orders.fx_rates with the rates of its currencies, in one transaction.

    Raises elt.fx.FxRateError (nothing written) when a currency has no rate for the day."""
    schema, table = FX_RATES_TABLE.split(".")
    with warehouse.connect(params) as conn:
        with conn.transaction():
            partition_lock(conn, schema, table, day)
            rates = record_rates(conn, FX_RATES_TABLE, day, day_currencies(conn, day))
    for rate in rates:
        log.info("fx %s: 1 %s = %s CNY (ECB %s, %s)", day, rate.currency, rate.cny_per_unit, rate.ecb_date, rate.source)
    return rates
