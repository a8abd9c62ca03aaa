"""Subscriptions: active, new, reactivated and lost stores per day, booked revenue and MRR, lifespans, branches."""

from __future__ import annotations

import altair as alt
import streamlit as st

from elt.serve import data
from elt.serve.views.common import chart, empty_notice, pick_date, pick_range


def render() -> None:
    """The merchant app's page."""
    st.title("Subscriptions")
    dates = data.subscription_dates()
    if not dates:
        empty_notice(
            "`marts.store_activity_daily`", "`elt backfill subscriptions_daily --start 2024-01-01 --end 2024-01-07`"
        )
        return
    as_of = pick_date("Snapshot (as of)", dates, key="subs_as_of")
    first = data.first_activity_date(as_of) or as_of
    start, end = pick_range("Days", min(first, as_of), as_of, 180, key="subs_range")
    activity = data.store_activity(as_of, start, end)
    st.subheader("Stores per day")
    counts = activity.melt(
        "activity_date", ["new_stores", "reactivated_stores", "lost_stores"], var_name="kind", value_name="stores"
    )
    counts["stores"] = counts["stores"].where(counts["kind"] != "lost_stores", -counts["stores"])  # lost below 0
    chart(
        alt.Chart(activity)
        .mark_area(opacity=0.25)
        .encode(x=alt.X("activity_date:T", title=None), y=alt.Y("active_stores:Q", title="active stores"))
        .properties(height=220)
    )
    chart(
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("activity_date:T", title=None),
            y=alt.Y("stores:Q", title="stores (lost below 0)"),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(
                    domain=["new_stores", "reactivated_stores", "lost_stores"], range=["#2ca02c", "#1f77b4", "#d62728"]
                ),
                title=None,
            ),
            tooltip=["activity_date:T", "kind:N", "stores:Q"],
        )
        .properties(height=220)
    )
    st.subheader("Booked revenue and MRR")
    revenue = data.subscription_revenue(as_of, start, end)
    base = alt.Chart(revenue).encode(x=alt.X("revenue_date:T", title=None))
    chart(
        alt.layer(
            base.mark_bar(color="#9ecae1").encode(y=alt.Y("booked_revenue:Q", title="booked revenue")),
            base.mark_line(color="#08519c").encode(y=alt.Y("monthly_recurring_revenue:Q", title="MRR")),
        )
        .resolve_scale(y="independent")
        .properties(height=260)
    )
    left, right = st.columns(2)
    with left:
        st.subheader("Lifespans (90-day bands)")
        chart(
            alt.Chart(data.lifespans(as_of))
            .mark_bar()
            .encode(
                x=alt.X("lifespan_band_days:O", title="lifespan (days, from)"),
                y=alt.Y("stores:Q"),
                color=alt.Color("is_installed:N", title="still installed"),
                tooltip=["lifespan_band_days:O", "is_installed:N", "stores:Q"],
            )
            .properties(height=280)
        )
    with right:
        st.subheader("Branches by revenue")
        branches = data.branches(as_of)
        chart(
            alt.Chart(branches.head(15))
            .mark_bar()
            .encode(
                x=alt.X("revenue:Q"),
                y=alt.Y("branch_name:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False)),
                color=alt.Color("completed_share:Q", scale=alt.Scale(scheme="greens"), title="completed share"),
                tooltip=list(branches.columns),
            )
            .properties(height=280)
        )
    st.dataframe(branches, hide_index=True)


if __name__ == "__main__":
    render()
