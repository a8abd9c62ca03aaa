"""Vouchers: the most-used amount per country and segment (heat table), and a lookup for one customer."""

from __future__ import annotations

import re
from datetime import date, datetime, time

import altair as alt
import streamlit as st

from elt.serve import data
from elt.serve.views.common import chart, empty_notice, pick_date

SEGMENT_TYPES = {"recency_segment": "Recency (days since the last order)", "frequent_segment": "Frequency (orders)"}


def render() -> None:
    """The voucher page."""
    st.title("Vouchers")
    dates = data.voucher_dates()
    if not dates:
        empty_notice("`marts.voucher_most_used`", "`elt backfill vouchers_daily --start 2024-01-01 --end 2024-01-07`")
        return
    as_of = pick_date("As of", dates, key="vouchers_as_of")
    mart = data.voucher_most_used(as_of)
    segment_type = st.radio(
        "Segments", list(SEGMENT_TYPES), format_func=SEGMENT_TYPES.get, horizontal=True, key="vouchers_type"
    )
    heat = mart[mart["segment_type"] == segment_type]
    order = sorted(heat["segment"].unique(), key=segment_start)
    st.subheader("Most-used voucher amount per country and segment")
    cells = (
        alt.Chart(heat)
        .mark_rect()
        .encode(
            x=alt.X("segment:N", title="segment", sort=order, axis=alt.Axis(labelAngle=0, orient="top")),
            y=alt.Y("country_code:N", title=None),
            color=alt.Color("voucher_amount:Q", scale=alt.Scale(scheme="goldgreen"), title="amount"),
            tooltip=["country_code:N", "segment:N", "voucher_amount:Q", "assignments:Q", "segment_assignments:Q"],
        )
    )
    labels = cells.mark_text(fontSize=12).encode(
        text=alt.Text("voucher_amount:Q", format=",.0f"), color=alt.value("black")
    )
    chart((cells + labels).properties(height=max(180, 32 * heat["country_code"].nunique())))
    lookup(mart["country_code"].drop_duplicates().sort_values().tolist(), as_of)


def segment_start(segment: str) -> int:
    """Where a segment such as '30-60', '180+' or '0' starts, to order segments by their bounds."""
    digits = re.match(r"\d+", segment)
    return int(digits.group()) if digits else 10**9


def lookup(countries: list[str], as_of: date) -> None:
    """The amount to send one customer: marts.most_used_voucher, as the voucher API answers."""
    st.subheader("Look up one customer")
    with st.form("voucher_lookup"):
        cols = st.columns(4)
        country = cols[0].selectbox("Country", countries, key="lookup_country")
        last_order = cols[1].date_input("Last order", value=as_of, max_value=as_of, key="lookup_last_order")
        orders = cols[2].number_input("Total orders", min_value=0, value=1, step=1, key="lookup_orders")
        segment_type = cols[3].selectbox(
            "Segment type", list(SEGMENT_TYPES), format_func=SEGMENT_TYPES.get, key="lookup_type"
        )
        submitted = st.form_submit_button("Look up")
    if submitted:
        amount, segment = data.voucher_lookup(
            country, datetime.combine(last_order, time()), int(orders), segment_type, as_of
        )
        if amount is None:
            st.warning(f"No voucher for segment {segment or '(none)'} in {country} as of {as_of}.")
        else:
            st.success(f"Send {amount:,.0f}: the most-used amount in {country}, segment {segment}, as of {as_of}.")


if __name__ == "__main__":
    render()
