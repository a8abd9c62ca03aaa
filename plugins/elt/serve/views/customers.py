"""Customer segments: profit levels, RFM scores, k-means clusters with their profiles, distance to the nearest
distribution centre."""

from __future__ import annotations

import altair as alt
import streamlit as st

from elt.serve import data
from elt.serve.views.common import chart, empty_notice, pick_date


def render() -> None:
    """The customer segments page."""
    st.title("Customer segments")
    dates = data.segment_dates()
    if not dates:
        empty_notice(
            "`marts.customer_segments`",
            "`elt backfill thelook_daily --start 2024-01-01 --end 2024-01-07` then "
            "`elt run customer_segments_weekly --date 2024-01-01`",
        )
        return
    as_of = pick_date("Week as of", dates, key="customers_as_of")
    left, right = st.columns(2)
    with left:
        st.subheader("Profit levels")
        levels = data.profit_levels(as_of)
        chart(
            alt.Chart(levels)
            .mark_bar()
            .encode(
                x=alt.X("profit_level:N", title=None),
                y=alt.Y("customers:Q"),
                color=alt.Color("profit_level:N", legend=None),
                tooltip=[
                    "profit_level:N",
                    "customers:Q",
                    alt.Tooltip("spend:Q", format=",.0f"),
                    alt.Tooltip("margin:Q", format=",.0f"),
                    alt.Tooltip("return_rate:Q", format=".1%"),
                ],
            )
            .properties(height=280)
        )
    with right:
        st.subheader("RFM: buyers per recency and frequency score")
        rfm = data.rfm_scores(as_of)
        if rfm.empty:
            st.info("No buyer in the year before this week.")
        else:
            chart(
                alt.Chart(rfm)
                .mark_rect()
                .encode(
                    x=alt.X("f_score:O", title="frequency score"),
                    y=alt.Y("r_score:O", title="recency score", sort="descending"),
                    color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues")),
                    tooltip=[
                        "r_score:O",
                        "f_score:O",
                        "customers:Q",
                        alt.Tooltip("m_score_mean:Q", format=".2f"),
                        alt.Tooltip("clv_mean:Q", format=",.0f"),
                    ],
                )
                .properties(height=280)
            )
    st.subheader("Clusters (k-means; 1 = the top spenders)")
    profiles = data.cluster_profiles(as_of)
    if profiles.empty:
        st.info("No clusters for this week: `customer_segments_weekly` writes them after the mart.")
    else:
        chart(
            alt.Chart(profiles)
            .mark_circle(opacity=0.8)
            .encode(
                x=alt.X("recency_days_mean:Q", title="mean days since the last order"),
                y=alt.Y("spend_last_year_mean:Q", title="mean spend last year"),
                size=alt.Size("customers:Q", scale=alt.Scale(range=[200, 3000])),
                color=alt.Color("cluster:N"),
                tooltip=list(profiles.columns),
            )
            .properties(height=300)
        )
        st.dataframe(profiles, hide_index=True)
    st.subheader("Distance to the nearest distribution centre")
    distances = data.centre_distances(as_of)
    chart(
        alt.Chart(distances)
        .mark_bar()
        .encode(
            x=alt.X("distance_band_km:O", title="distance band (km, from)"),
            y=alt.Y("sum(customers):Q", title="customers"),
            color=alt.Color("centre:N", title="nearest centre"),
            tooltip=["centre:N", "distance_band_km:O", "customers:Q"],
        )
        .properties(height=280)
    )


if __name__ == "__main__":
    render()
