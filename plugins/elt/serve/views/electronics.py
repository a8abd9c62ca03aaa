"""Electronics: revenue, orders and AOV per day and month, peak hours, the year to date against last year, brand
ranking with rank changes, top products."""

from __future__ import annotations

from datetime import date

import altair as alt
import streamlit as st

from elt.serve import data
from elt.serve.views.common import arrow, chart, empty_notice, pick_date, pick_range

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
METRICS = {"revenue": "Revenue", "orders": "Orders", "avg_order_value": "Average order value"}


def render() -> None:
    """The electronics store's page."""
    st.title("Electronics store")
    span = data.electronics_sale_range()
    if span is None:
        empty_notice(
            "`marts.electronics_sales_daily`", "`elt backfill electronics_daily --start 2024-01-01 --end 2024-01-07`"
        )
        return
    dates = data.electronics_as_of_dates()
    left, middle, right = st.columns([2, 3, 2])
    with middle:
        start, end = pick_range("Sale dates (trends, peak hours)", span[0], span[1], 90, key="electronics_range")
    if not dates:
        st.info("No as-of marts (KPIs, rankings) yet: they come with each `electronics_daily` run.")
    else:
        with left:
            as_of = pick_date("As of (KPIs, rankings)", dates, key="electronics_as_of")
        weeks = right.segmented_control("Window (weeks)", [4, 12, 24, 52], default=4, key="electronics_weeks") or 4
        year_to_date(as_of)
    trends(start, end)
    peak_hours(start, end)
    if dates:
        brands_and_products(as_of, weeks)


def year_to_date(as_of: date) -> None:
    """The year to date as of a date against the same period last year."""
    kpis = data.electronics_kpis(as_of)
    if not kpis.empty:
        row = kpis.iloc[0]
        last_year = row["revenue_same_period_last_year"]
        change = None if not last_year else f"{(row['revenue_ytd'] - last_year) / last_year:+.1%} vs last year"
        cols = st.columns(4)
        cols[0].metric(f"Revenue {int(row['year'])} to date", f"{row['revenue_ytd']:,.0f}", change)
        cols[1].metric("Same period last year", f"{last_year or 0:,.0f}")
        cols[2].metric("Orders to date", f"{int(row['orders_ytd']):,}")
        cols[3].metric("Average order value", f"{row['avg_order_value_ytd'] or 0:,.2f}")


def brands_and_products(as_of: date, weeks: int) -> None:
    """The brand ranking with its rank changes, and the top products, over a window ending at a date."""
    ranking = data.brand_ranking(as_of, weeks)
    st.subheader(f"Brand ranking, {weeks} weeks to {as_of}")
    if ranking.empty:
        st.info("No brand sold in this window.")
    else:
        ranking = ranking.assign(change=ranking["rank_change"].map(arrow))
        chart(
            alt.Chart(ranking.head(15))
            .mark_bar()
            .encode(
                x=alt.X("revenue:Q"),
                y=alt.Y("brand:N", sort=alt.EncodingSortField("rank"), title=None, axis=alt.Axis(labelOverlap=False)),
                color=alt.Color(
                    "direction:N",
                    scale=alt.Scale(
                        domain=["up", "down", "same", "new"], range=["#2ca02c", "#d62728", "#999", "#1f77b4"]
                    ),
                    title="rank change",
                ),
                tooltip=[
                    "rank:Q",
                    "brand:N",
                    alt.Tooltip("revenue:Q", format=",.0f"),
                    "orders:Q",
                    "previous_rank:Q",
                    "change:N",
                    "revenue_change_pct:Q",
                ],
            )
            .transform_calculate(
                direction="datum.rank_change == null ? 'new' : datum.rank_change > 0 ? 'up'"
                " : datum.rank_change < 0 ? 'down' : 'same'"
            )
            .properties(height=360)
        )
        st.dataframe(
            ranking[["rank", "change", "brand", "revenue", "orders", "previous_rank", "revenue_change_pct"]],
            hide_index=True,
        )
    st.subheader(f"Top products, {weeks} weeks to {as_of}")
    st.dataframe(data.top_products(as_of, weeks), hide_index=True)


def trends(start: date, end: date) -> None:
    """Daily and monthly revenue, orders and AOV."""
    metric = st.radio("Trend of", list(METRICS), format_func=METRICS.get, horizontal=True, key="electronics_metric")
    daily = data.electronics_daily(start, end)
    st.subheader(f"Daily {METRICS[metric].lower()}")
    chart(
        alt.Chart(daily)
        .mark_line(point=len(daily) < 60)
        .encode(
            x=alt.X("sale_date:T", title=None),
            y=alt.Y(f"{metric}:Q", title=METRICS[metric]),
            tooltip=["sale_date:T", "revenue:Q", "orders:Q", "avg_order_value:Q"],
        )
        .properties(height=260)
    )
    monthly = data.electronics_monthly(start, end)
    st.subheader(f"Monthly {METRICS[metric].lower()}")
    chart(
        alt.Chart(monthly)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=None),
            y=alt.Y(f"{metric}:Q", title=METRICS[metric]),
            tooltip=["yearmonth(month):T", "revenue:Q", "orders:Q", "avg_order_value:Q", "revenue_change_pct:Q"],
        )
        .properties(height=260)
    )


def peak_hours(start: date, end: date) -> None:
    """Revenue per weekday and hour of the store's day."""
    hours = data.electronics_peak_hours(start, end)
    st.subheader("Peak hours (revenue per weekday and hour)")
    hours = hours.assign(day=hours["weekday"].map(lambda d: WEEKDAYS[d - 1]))
    chart(
        alt.Chart(hours)
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="hour"),
            y=alt.Y("day:N", sort=WEEKDAYS, title=None),
            color=alt.Color("revenue:Q", scale=alt.Scale(scheme="inferno", reverse=True)),
            tooltip=["day:N", "hour:O", alt.Tooltip("revenue:Q", format=",.0f"), "orders:Q"],
        )
        .properties(height=240)
    )


if __name__ == "__main__":
    render()
