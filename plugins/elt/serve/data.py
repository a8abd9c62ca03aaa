"""The dashboard's queries: one function per query, reading `marts` and `audit` only, cached per date or range.

The connection is the analyst login role's (elt_analyst: reads marts and audit, nothing raw, writes nothing), in a
read-only session. A mart that is not built yet reads as an empty frame; no query reads the clock: pages default
to the latest date a mart holds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import psycopg
import streamlit as st
from psycopg.types.numeric import FloatLoader

from elt.connection import ServerParams

TTL = "10m"  # marts change once a day; a fresh run shows within this


def analyst_params() -> ServerParams:
    """The warehouse `elt` is configured for, as the analyst role (as the voucher API connects)."""
    from elt import warehouse

    return warehouse.role_params(warehouse.ANALYST)


def _usable(conn: psycopg.Connection) -> bool:
    return not conn.closed and not conn.broken


@st.cache_resource(validate=_usable, show_spinner=False)
def _connection(conninfo: str) -> psycopg.Connection:
    """One read-only autocommit connection per server, shared by the sessions (psycopg serialises its use)."""
    conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=5, application_name="elt dashboard")
    conn.execute("set default_transaction_read_only = on")
    conn.execute("set statement_timeout = '60s'")
    conn.adapters.register_loader("numeric", FloatLoader)  # charts want floats, not Decimal
    return conn


def connection() -> psycopg.Connection:
    """The dashboard's connection to the warehouse, as the analyst role; a page that cannot reach it says so."""
    params = analyst_params()
    try:
        return _connection(params.conninfo())
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        st.error(
            f"The warehouse cannot be reached ({params.dbname} on {params.host}:{params.port} as {params.user}): "
            f"{first_line}. Start it with `elt db start` (the embedded server) or check `ELT_WAREHOUSE_URL`.",
            icon=":material/cloud_off:",
        )
        st.stop()
        raise  # st.stop() raises; this keeps type checkers informed


def frame(query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """The rows of `query` as a DataFrame; an empty one when its relation is not built yet."""
    try:
        try:
            cursor = connection().execute(query, params or {})
        except psycopg.OperationalError:  # the server went away (a restart): once more on a new connection
            _connection.clear()
            cursor = connection().execute(query, params or {})
    except psycopg.errors.UndefinedTable:
        return pd.DataFrame()
    columns = [column.name for column in cursor.description or []]
    return pd.DataFrame(cursor.fetchall(), columns=columns)


def scalar(query: str, params: dict[str, Any] | None = None) -> Any:
    """The first value of `query`, None when there is none or its relation is not built yet."""
    result = frame(query, params)
    return None if result.empty else result.iat[0, 0]


def _dates(query: str) -> list[date]:
    result = frame(query)
    return [] if result.empty else [value for value in result.iloc[:, 0].tolist() if value is not None]


# -- vouchers -------------------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def voucher_dates() -> list[date]:
    """The as_of_dates of marts.voucher_most_used, latest first."""
    return _dates("select distinct as_of_date from marts.voucher_most_used order by 1 desc")


@st.cache_data(ttl=TTL, show_spinner=False)
def voucher_most_used(as_of: date) -> pd.DataFrame:
    """The most-used amount per country, segment type and segment as of a date."""
    return frame(
        "select country_code, segment_type, segment, voucher_amount, assignments, segment_assignments"
        " from marts.voucher_most_used where as_of_date = %(as_of)s order by country_code, segment_type, segment",
        {"as_of": as_of},
    )


def voucher_lookup(
    country: str, last_order_ts: datetime, total_orders: int, segment_type: str, as_of: date
) -> tuple[float | None, str | None]:
    """marts.most_used_voucher and marts.voucher_segment for one customer (the voucher API's answer)."""
    result = frame(
        "select marts.most_used_voucher(%(country)s, %(last_order)s, %(orders)s, %(segment_type)s, %(as_of)s)"
        " as amount, marts.voucher_segment(%(segment_type)s, %(last_order)s, %(orders)s, %(as_of)s) as segment",
        {
            "country": country,
            "last_order": last_order_ts,
            "orders": total_orders,
            "segment_type": segment_type,
            "as_of": as_of,
        },
    )
    return (None, None) if result.empty else (result.at[0, "amount"], result.at[0, "segment"])


# -- customer segments ---------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def segment_dates() -> list[date]:
    """The weeks (as_of_date) of marts.customer_segments, latest first."""
    return _dates("select distinct as_of_date from marts.customer_segments order by 1 desc")


@st.cache_data(ttl=TTL, show_spinner=False)
def profit_levels(as_of: date) -> pd.DataFrame:
    """Customers, spend and margin per profit level as of a week."""
    return frame(
        "select profit_level, count(*) as customers, sum(spend_last_year) as spend,"
        " sum(margin_last_year) as margin, avg(return_rate) as return_rate"
        " from marts.customer_segments where as_of_date = %(as_of)s group by 1 order by 1",
        {"as_of": as_of},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def rfm_scores(as_of: date) -> pd.DataFrame:
    """Buyers per recency and frequency score, with their mean monetary score and lifetime value."""
    return frame(
        "select r_score, f_score, count(*) as customers, avg(m_score) as m_score_mean,"
        " avg(clv_estimate) as clv_mean from marts.customer_segments"
        " where as_of_date = %(as_of)s and r_score is not null group by 1, 2 order by 1, 2",
        {"as_of": as_of},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def cluster_profiles(as_of: date) -> pd.DataFrame:
    """The k-means clusters of a week with their size and feature means."""
    return frame(
        "select cluster, customers, share_of_customers, recency_days_mean, frequency_orders_last_year_mean,"
        " spend_last_year_mean, margin_last_year_mean, items_last_year_mean, return_rate_mean, distance_km_mean"
        " from marts.customer_cluster_profiles where as_of_date = %(as_of)s order by cluster",
        {"as_of": as_of},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def centre_distances(as_of: date) -> pd.DataFrame:
    """Customers per nearest distribution centre and 250 km distance band."""
    return frame(
        "select nearest_distribution_center as centre, (floor(distance_km / 250) * 250)::int as distance_band_km,"
        " count(*) as customers from marts.customer_segments"
        " where as_of_date = %(as_of)s and distance_km is not null group by 1, 2 order by 1, 2",
        {"as_of": as_of},
    )


# -- electronics ---------------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def electronics_sale_range() -> tuple[date, date] | None:
    """The first and last sale date of marts.electronics_sales_daily, None when it is empty."""
    result = frame("select min(sale_date) as first, max(sale_date) as last from marts.electronics_sales_daily")
    if result.empty or result.at[0, "last"] is None or pd.isna(result.at[0, "last"]):
        return None
    return result.at[0, "first"], result.at[0, "last"]


@st.cache_data(ttl=TTL, show_spinner=False)
def electronics_daily(start: date, end: date) -> pd.DataFrame:
    """Revenue, orders and average order value per sale date in a range."""
    return frame(
        "select sale_date, revenue, orders, units, customers, avg_order_value from marts.electronics_sales_daily"
        " where sale_date between %(start)s and %(end)s order by 1",
        {"start": start, "end": end},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def electronics_monthly(start: date, end: date) -> pd.DataFrame:
    """Revenue, orders, average order value and change per month overlapping a range."""
    return frame(
        "select month, revenue, orders, avg_order_value, revenue_change_pct from marts.electronics_sales_monthly"
        " where month between date_trunc('month', %(start)s::date) and %(end)s order by 1",
        {"start": start, "end": end},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def electronics_peak_hours(start: date, end: date) -> pd.DataFrame:
    """Revenue and orders per ISO weekday (1 = Monday) and hour in a range."""
    return frame(
        "select extract(isodow from sale_date)::int as weekday, hour, sum(revenue) as revenue,"
        " sum(orders) as orders from marts.electronics_sales_hourly"
        " where sale_date between %(start)s and %(end)s group by 1, 2 order by 1, 2",
        {"start": start, "end": end},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def electronics_as_of_dates() -> list[date]:
    """The as_of_dates of marts.electronics_kpis, latest first."""
    return _dates("select distinct as_of_date from marts.electronics_kpis order by 1 desc")


@st.cache_data(ttl=TTL, show_spinner=False)
def electronics_kpis(as_of: date) -> pd.DataFrame:
    """The year to date as of a date, against the same period last year."""
    return frame(
        "select year, revenue_ytd, orders_ytd, avg_order_value_ytd, revenue_same_period_last_year"
        " from marts.electronics_kpis where as_of_date = %(as_of)s",
        {"as_of": as_of},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def brand_ranking(as_of: date, window_weeks: int) -> pd.DataFrame:
    """The brands by revenue over a window ending at a date, with their previous window's rank."""
    return frame(
        "select rank, brand, revenue, orders, previous_rank, rank_change, revenue_change_pct"
        " from marts.electronics_brand_ranking where as_of_date = %(as_of)s and window_weeks = %(weeks)s"
        " order by rank limit 25",
        {"as_of": as_of, "weeks": window_weeks},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def top_products(as_of: date, window_weeks: int) -> pd.DataFrame:
    """The best-selling products over a window ending at a date (19-digit ids as text: exact in the browser)."""
    return frame(
        "select rank, product_id::text as product_id, brand, category_code, revenue, units, orders"
        " from marts.electronics_top_products"
        " where as_of_date = %(as_of)s and window_weeks = %(weeks)s order by rank limit 20",
        {"as_of": as_of, "weeks": window_weeks},
    )


# -- store orders --------------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def store_order_dates() -> list[date]:
    """The order dates of marts.store_sales_hourly, latest first."""
    return _dates("select distinct order_date from marts.store_sales_hourly order by 1 desc")


@st.cache_data(ttl=TTL, show_spinner=False)
def store_sales_hourly(day: date) -> pd.DataFrame:
    """Revenue and orders per city (English and Chinese name) and China and Pacific hour of a day."""
    return frame(
        "select city_code, city_en, city_zh, province_en, hour_china, hour_pacific, sum(orders) as orders,"
        " sum(revenue_rmb) as revenue_rmb from marts.store_sales_hourly where order_date = %(day)s"
        " group by 1, 2, 3, 4, 5, 6 order by 1, 5",
        {"day": day},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def store_top_city_by_hour(day: date) -> pd.DataFrame:
    """The city with the highest revenue in each China hour of a day."""
    return frame(
        "select hour_china, city_en, city_zh, province_en, orders, revenue_rmb, hour_revenue_rmb, revenue_share,"
        " is_best_of_day from marts.store_top_city_by_hour where order_date = %(day)s order by hour_china",
        {"day": day},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def store_districts(day: date) -> pd.DataFrame:
    """The 25 districts with the highest revenue on a day, with their city's names."""
    return frame(
        "select d.district_en, c.city_en, c.city_zh, d.orders, d.revenue_rmb"
        " from marts.store_district_sales d left join marts.dim_china_city c using (city_code)"
        " where d.order_date = %(day)s order by d.revenue_rmb desc nulls last limit 25",
        {"day": day},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def store_cities(day: date) -> pd.DataFrame:
    """Each city's day: revenue, orders, districts, sales tier and published tier, names in English and Chinese."""
    return frame(
        "select s.city_en, c.city_zh, s.province_en, s.revenue_rmb, s.orders, s.avg_order_value, s.districts,"
        " s.avg_revenue_per_district, s.sales_tier, s.official_tier"
        " from marts.store_city_summary s left join marts.dim_china_city c using (city_code)"
        " where s.order_date = %(day)s order by s.revenue_rmb desc nulls last",
        {"day": day},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def store_city_tiers(day: date) -> pd.DataFrame:
    """The day's sales tiers: cities, revenue bounds and share per tier."""
    return frame(
        "select tier, cities, min_revenue, max_revenue, revenue_share from marts.store_city_tiers"
        " where order_date = %(day)s and tier is not null order by tier",
        {"day": day},
    )


# -- subscriptions -------------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def subscription_dates() -> list[date]:
    """The as_of_dates (snapshot days) of marts.store_activity_daily, latest first."""
    return _dates("select distinct as_of_date from marts.store_activity_daily order by 1 desc")


@st.cache_data(ttl=TTL, show_spinner=False)
def first_activity_date(as_of: date) -> date | None:
    """The first day of marts.store_activity_daily at a snapshot."""
    return scalar(
        "select min(activity_date) from marts.store_activity_daily where as_of_date = %(as_of)s", {"as_of": as_of}
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def store_activity(as_of: date, start: date, end: date) -> pd.DataFrame:
    """Active, new, reactivated and lost stores per day of a range, as known at a snapshot."""
    return frame(
        "select activity_date, active_stores, new_stores, reactivated_stores, lost_stores, cancelled, closed, unknown"
        " from marts.store_activity_daily where as_of_date = %(as_of)s"
        " and activity_date between %(start)s and %(end)s order by 1",
        {"as_of": as_of, "start": start, "end": end},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def subscription_revenue(as_of: date, start: date, end: date) -> pd.DataFrame:
    """Booked revenue and MRR per day of a range, as known at a snapshot."""
    return frame(
        "select revenue_date, new_subscriptions, booked_revenue, active_subscriptions, monthly_recurring_revenue"
        " from marts.subscription_revenue_daily where as_of_date = %(as_of)s"
        " and revenue_date between %(start)s and %(end)s order by 1",
        {"as_of": as_of, "start": start, "end": end},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def lifespans(as_of: date) -> pd.DataFrame:
    """Stores per 90-day lifespan band, installed or gone, at a snapshot."""
    return frame(
        "select (lifespan_days / 90) * 90 as lifespan_band_days, is_installed, count(*) as stores"
        " from marts.store_lifespan where as_of_date = %(as_of)s group by 1, 2 order by 1, 2",
        {"as_of": as_of},
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def branches(as_of: date) -> pd.DataFrame:
    """Each branch's revenue, transactions, customers, products and completed share at a snapshot."""
    return frame(
        "select branch_id, branch_name, branch_names, revenue, transactions, customers, products, completed_share"
        " from marts.branch_performance where as_of_date = %(as_of)s order by revenue desc nulls last",
        {"as_of": as_of},
    )


# -- data quality --------------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def quality_range() -> tuple[date, date] | None:
    """The first and last partition date that validation ran for, None when it never ran."""
    result = frame("select min(partition_date) as first, max(partition_date) as last from audit.dq_runs")
    if result.empty or result.at[0, "last"] is None or pd.isna(result.at[0, "last"]):
        return None
    return result.at[0, "first"], result.at[0, "last"]


EXAMPLE_FIELDS = ["source_file", "source_row", "column_name", "bad_value", "message"]


@st.cache_data(ttl=TTL, show_spinner=False)
def exceptions_per_day(start: date, end: date) -> pd.DataFrame:
    """Failing values per day, source, table, rule and severity, with one as `example` (one pass, no sort)."""
    return frame(
        "select partition_date, source, table_name, rule, severity, count(*) as exceptions,"
        " any_value(array[source_file, source_row::text, column_name, bad_value, message]) as example"
        " from audit.dq_exceptions where partition_date between %(start)s and %(end)s"
        " group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4",
        {"start": start, "end": end},
    )


def exception_examples(per_day: pd.DataFrame) -> pd.DataFrame:
    """Per source, table and rule: the failing values of the range, and an example of its latest day."""
    if per_day.empty:
        return pd.DataFrame(columns=["source", "table_name", "rule", "severity", "exceptions", *EXAMPLE_FIELDS])
    keys = ["source", "table_name", "rule", "severity"]
    latest = per_day.sort_values("partition_date").groupby(keys, as_index=False).last()
    examples = pd.DataFrame(latest["example"].tolist(), columns=EXAMPLE_FIELDS, index=latest.index)
    examples["source_row"] = pd.to_numeric(examples["source_row"])
    totals = per_day.groupby(keys, as_index=False)["exceptions"].sum()
    result = totals.merge(pd.concat([latest[keys], examples], axis=1), on=keys)
    return result.sort_values(["exceptions", *keys], ascending=[False, True, True, True, True], ignore_index=True)


@st.cache_data(ttl=TTL, show_spinner=False)
def latest_dq_runs(end: date) -> pd.DataFrame:
    """The latest validation run of each source and table up to a partition date."""
    return frame(
        "select distinct on (source, table_name) source, table_name, partition_date, suite, rows_checked,"
        " error_rows, warn_rows, success, finished_at from audit.dq_runs where partition_date <= %(end)s"
        " order by source, table_name, partition_date desc, finished_at desc",
        {"end": end},
    )
