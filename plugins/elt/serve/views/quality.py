"""Data quality: failing values per source, table, rule and day, an example file and row of each, the latest runs."""

from __future__ import annotations

from datetime import date

import altair as alt
import streamlit as st

from elt.serve import data
from elt.serve.views.common import chart, empty_notice, pick_range

ALL = "every source"


def linked_date(first: date, last: date) -> tuple[date, date] | None:
    """The day a link names (`?date=YYYY-MM-DD`, as the data-quality alerts link here), if it is one validated."""
    try:
        day = date.fromisoformat(st.query_params.get("date", ""))
    except ValueError:
        return None
    return (day, day) if first <= day <= last else None


def render() -> None:
    """The page an operator opens first in the morning."""
    st.title("Data quality")
    span = data.quality_range()
    if span is None:
        empty_notice(
            "`audit.dq_runs` (no validation has run)",
            "a DAG run, e.g. `elt backfill vouchers_daily --start 2024-01-01 --end 2024-01-07`",
        )
        return
    linked = linked_date(span[0], span[1])  # an alert's link: ?source=…&date=…
    left, right = st.columns([3, 1])
    with left:
        start, end = pick_range("Partition dates", span[0], span[1], 14, key="quality_range", default=linked)
    runs = data.latest_dq_runs(end)
    per_day = data.exceptions_per_day(start, end)
    sources = sorted(set(runs["source"]) | set(per_day["source"] if not per_day.empty else []))
    wanted = st.query_params.get("source")
    chosen = right.selectbox(
        "Source", [ALL, *sources], index=sources.index(wanted) + 1 if wanted in sources else 0, key="quality_source"
    )
    if chosen != ALL:
        runs = runs[runs["source"] == chosen]
        per_day = per_day[per_day["source"] == chosen]
    failed = int((~runs["success"]).sum()) if not runs.empty else 0
    counts = per_day.drop(columns="example", errors="ignore")  # the charts' data: counts only
    cols = st.columns(4)
    cols[0].metric("Tables validated", len(runs))
    cols[1].metric("Latest runs failed", failed)
    cols[2].metric("Errors (quarantined)", int(per_day.loc[per_day["severity"] == "error", "exceptions"].sum()))
    cols[3].metric("Warnings", int(per_day.loc[per_day["severity"] == "warn", "exceptions"].sum()))

    st.subheader("Exceptions per day and source")
    if per_day.empty:
        st.success(f"No failing value between {start} and {end}.")
    else:
        chart(
            alt.Chart(counts)
            .mark_bar()
            .encode(
                x=alt.X("yearmonthdate(partition_date):O", title="partition date"),
                y=alt.Y("sum(exceptions):Q", title="failing values"),
                color=alt.Color("source:N"),
                tooltip=["yearmonthdate(partition_date):T", "source:N", "sum(exceptions):Q"],
            )
            .properties(height=260)
        )
        st.subheader("Per table and rule")
        checks = counts.assign(check=counts["source"] + " · " + counts["table_name"] + " · " + counts["rule"])
        chart(
            alt.Chart(checks)
            .mark_rect()
            .encode(
                x=alt.X("yearmonthdate(partition_date):O", title="partition date"),
                y=alt.Y("check:N", title=None, axis=alt.Axis(labelLimit=400)),
                color=alt.Color("sum(exceptions):Q", scale=alt.Scale(scheme="orangered"), title="failing values"),
                tooltip=["source:N", "table_name:N", "rule:N", "severity:N", "sum(exceptions):Q"],
            )
        )
        st.subheader("An example of each rule (file and row)")
        st.dataframe(data.exception_examples(per_day), hide_index=True)

    st.subheader(f"Latest validation run of each table (up to {end})")
    st.dataframe(
        runs,
        hide_index=True,
        column_config={"success": st.column_config.CheckboxColumn("passed")},
    )


if __name__ == "__main__":
    render()
