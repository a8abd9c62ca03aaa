"""Every page of the dashboard (elt.serve.dashboard) under Streamlit's AppTest: on the demo warehouse (every source's
marts built from a generated day) no exception and every chart drawn with data; on an empty warehouse the page says
so and how to fill it; the voucher lookup answers what marts.most_used_voucher answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from elt import warehouse
from elt.serve import dashboard_script
from elt.serve.dashboard import PAGES
from elt.serve.views.common import EMPTY_PREFIX
from elt.warehouse import ServerParams

# the charts each page draws on the demo day
CHARTS = {"quality": 2, "vouchers": 1, "customers": 4, "electronics": 4, "store_orders": 4, "subscriptions": 5}
NAMES = [name for name, _, _ in PAGES]
DEMO_START = date(2024, 1, 1)  # the demo warehouse's day (tests/conftest.py)


def app_on(params: ServerParams, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The dashboard's app against the warehouse `params`, with Streamlit's caches emptied (they outlive a run)."""
    monkeypatch.setenv("ELT_WAREHOUSE_URL", params.libpq_url())
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(str(dashboard_script()), default_timeout=60)


def open_page(app: AppTest, name: str) -> AppTest:
    app.switch_page(f"views/{name}.py")
    return app.run()


@pytest.fixture
def demo_app(demo_warehouse: ServerParams, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    yield app_on(demo_warehouse, monkeypatch)
    st.cache_resource.clear()  # closes nothing, but drops the connection to a database about to go


def test_the_quality_page_comes_first() -> None:
    assert NAMES[0] == "quality"
    assert sorted(NAMES) == sorted(CHARTS)


# first the tests without the demo warehouse: a worker runs them while another builds it
@pytest.mark.parametrize("name", NAMES)
def test_every_page_on_an_empty_warehouse_says_how_to_fill_it(
    warehouse_params: ServerParams, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    app = open_page(app_on(warehouse_params, monkeypatch), name)
    assert not app.exception, [e.value for e in app.exception]
    notices = [i.value for i in app.info if i.value.startswith(EMPTY_PREFIX)]
    assert len(notices) == 1, [i.value for i in app.info]
    assert "elt backfill" in notices[0] and "make demo" in notices[0]
    assert not app.get("vega_lite_chart")
    st.cache_resource.clear()


def test_an_unreachable_warehouse_is_said_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = ServerParams(str(tmp_path), 5432, "postgres", "", "warehouse")
    app = app_on(nowhere, monkeypatch).run()
    assert not app.exception, [e.value for e in app.exception]
    assert "cannot be reached" in app.error[0].value and "elt db start" in app.error[0].value
    st.cache_resource.clear()


@pytest.mark.parametrize("name", NAMES)
def test_every_page_draws_its_charts_on_demo_data(demo_app: AppTest, name: str) -> None:
    app = open_page(demo_app, name)
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert not [i.value for i in app.info if i.value.startswith(EMPTY_PREFIX)]
    charts = app.get("vega_lite_chart")
    assert len(charts) == CHARTS[name]
    for chart in charts:
        assert chart.proto.datasets, f"{name}: a chart without data"
        assert any(dataset.data.data for dataset in chart.proto.datasets), f"{name}: a chart without rows"


def test_the_voucher_lookup_answers_as_the_function(demo_app: AppTest, demo_warehouse: ServerParams) -> None:
    app = open_page(demo_app, "vouchers")
    as_of = date.fromisoformat(str(app.selectbox(key="vouchers_as_of").value))
    country = app.selectbox(key="lookup_country").value
    app.date_input(key="lookup_last_order").set_value(date(as_of.year, 1, 1))
    app.number_input(key="lookup_orders").set_value(3)
    app.selectbox(key="lookup_type").set_value("frequent_segment")
    app.button[0].click().run()
    assert not app.exception
    with psycopg.connect(warehouse.role_params(warehouse.ANALYST, demo_warehouse).conninfo()) as conn:
        amount, segment = conn.execute(
            "select marts.most_used_voucher(%s, %s, 3, 'frequent_segment', %s),"
            " marts.voucher_segment('frequent_segment', %s, 3, %s)",
            (country, datetime(as_of.year, 1, 1), as_of, datetime(as_of.year, 1, 1), as_of),
        ).fetchone()
    answer = (app.success or app.warning)[0].value
    assert f"segment {segment or '(none)'}" in answer
    if amount is not None:
        assert answer.startswith(f"Send {amount:,.0f}")


def test_an_alerts_link_opens_its_source_and_day(demo_app: AppTest) -> None:
    """The data-quality alerts link to `<dashboard>/quality?source=…&date=…` (elt.alerts)."""
    demo_app.query_params["source"] = "vouchers"
    demo_app.query_params["date"] = DEMO_START.isoformat()
    app = demo_app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="quality_source").value == "vouchers"
    assert app.date_input(key="quality_range").value == (DEMO_START, DEMO_START)
    examples = app.dataframe[0].value
    assert set(examples["source"]) == {"vouchers"} and (examples["source_row"] > 0).all()
