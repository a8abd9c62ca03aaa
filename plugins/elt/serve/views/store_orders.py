"""Store orders: sales per city and hour (China and Pacific clocks), the top city of each hour, districts and city
tiers; cities in English with their Chinese names beside."""

from __future__ import annotations

import altair as alt
import streamlit as st

from elt.serve import data
from elt.serve.views.common import chart, empty_notice, pick_date

CLOCKS = {"hour_china": "China (Asia/Shanghai)", "hour_pacific": "US Pacific"}
TOP_CITIES = 20


def render() -> None:
    """The physical stores' page."""
    st.title("Store orders")
    dates = data.store_order_dates()
    if not dates:
        empty_notice(
            "`marts.store_sales_hourly`", "`elt backfill store_orders_daily --start 2024-01-01 --end 2024-01-07`"
        )
        return
    day = pick_date("Order date (Pacific day)", dates, key="stores_day")
    clock = st.radio("Hours on", list(CLOCKS), format_func=CLOCKS.get, horizontal=True, key="stores_clock")
    hourly = data.store_sales_hourly(day)
    cities = data.store_cities(day)
    hourly = hourly.assign(city=hourly["city_en"] + " " + hourly["city_zh"].fillna(""))
    top = hourly.groupby("city")["revenue_rmb"].sum().nlargest(TOP_CITIES).index
    st.subheader(f"Sales per city and hour ({CLOCKS[clock]}), the {TOP_CITIES} largest cities")
    chart(
        alt.Chart(hourly[hourly["city"].isin(top)])
        .mark_rect()
        .encode(
            x=alt.X(f"{clock}:O", title="hour"),
            y=alt.Y("city:N", sort=list(top), title=None),
            color=alt.Color("sum(revenue_rmb):Q", scale=alt.Scale(scheme="tealblues"), title="revenue (RMB)"),
            tooltip=[
                "city_en:N",
                "city_zh:N",
                "province_en:N",
                f"{clock}:O",
                "sum(orders):Q",
                alt.Tooltip("sum(revenue_rmb):Q", format=",.0f"),
            ],
        )
        .properties(height=24 * len(top) + 40)
    )
    st.subheader("Top city of each hour (China clock)")
    best = data.store_top_city_by_hour(day)
    best = best.assign(city=best["city_en"] + " " + best["city_zh"].fillna(""))
    chart(
        alt.Chart(best)
        .mark_bar()
        .encode(
            x=alt.X("hour_china:O", title="hour (China)"),
            y=alt.Y("revenue_rmb:Q", title="revenue (RMB)"),
            color=alt.Color("city:N", title="city"),
            tooltip=[
                "hour_china:O",
                "city_en:N",
                "city_zh:N",
                "orders:Q",
                alt.Tooltip("revenue_rmb:Q", format=",.0f"),
                alt.Tooltip("revenue_share:Q", format=".1%"),
            ],
        )
        .properties(height=280)
    )
    left, right = st.columns([2, 3])
    with left:
        st.subheader("City sales tiers")
        tiers = data.store_city_tiers(day)
        chart(
            alt.Chart(tiers)
            .mark_bar()
            .encode(
                x=alt.X("tier:O"),
                y=alt.Y("cities:Q"),
                color=alt.Color("revenue_share:Q", scale=alt.Scale(scheme="purples"), title="revenue share"),
                tooltip=[
                    "tier:O",
                    "cities:Q",
                    "min_revenue:Q",
                    "max_revenue:Q",
                    alt.Tooltip("revenue_share:Q", format=".1%"),
                ],
            )
            .properties(height=260)
        )
    with right:
        st.subheader("Top districts")
        districts = data.store_districts(day)
        districts = districts.assign(
            where=districts["district_en"]
            + ", "
            + districts["city_en"].fillna("?")
            + " "
            + districts["city_zh"].fillna("")
        )
        chart(
            alt.Chart(districts.head(15))
            .mark_bar()
            .encode(
                x=alt.X("revenue_rmb:Q", title="revenue (RMB)"),
                y=alt.Y("where:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=320)),
                tooltip=["district_en:N", "city_en:N", "city_zh:N", "orders:Q", "revenue_rmb:Q"],
            )
            .properties(height=22 * min(len(districts), 15) + 20)
        )
    st.subheader("Cities")
    st.dataframe(cities, hide_index=True)


if __name__ == "__main__":
    render()
