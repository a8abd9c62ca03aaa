"""What the pages share: the empty-mart notice, date pickers and chart placement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import altair as alt
import streamlit as st

EMPTY_PREFIX = "Nothing to show yet"


def empty_notice(what: str, how: str) -> None:
    """Say that the page's marts are empty and how to fill them."""
    st.info(
        f"{EMPTY_PREFIX}: {what} is empty in this warehouse. Fill it with {how}, "
        "or run `make demo` for a week of sample data of every source.",
        icon=":material/inbox:",
    )


def pick_date(label: str, dates: Sequence[date], key: str) -> date:
    """A date out of those a mart holds (latest first), the latest by default."""
    return st.selectbox(label, dates, index=0, key=key, format_func=date.isoformat)


def pick_range(
    label: str, first: date, last: date, days: int, key: str, default: tuple[date, date] | None = None
) -> tuple[date, date]:
    """A date range inside [first, last], by default `default` or else the `days` days up to `last`."""
    default = default or (max(first, last - timedelta(days=days - 1)), last)
    chosen = st.date_input(label, value=default, min_value=first, max_value=last, key=key)
    if isinstance(chosen, tuple) and len(chosen) == 2:
        return chosen[0], chosen[1]
    return default  # half a range while the user is still picking


def chart(spec: alt.Chart | alt.LayerChart | alt.FacetChart) -> None:
    """An Altair chart across the page's width."""
    st.altair_chart(spec, width="stretch")


def arrow(change: float | None) -> str:
    """A rank change as an arrow: up when the rank improved, down when it fell, 'new' without a previous rank."""
    if change is None or change != change:  # None or NaN
        return "🆕 new"
    if change > 0:
        return f"▲ {int(change)}"
    if change < 0:
        return f"▼ {int(-change)}"
    return "▬ 0"
