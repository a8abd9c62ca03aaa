"""theLook suites on generated exports: they run, pass their thresholds, and flag the known quirks."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from elt import config, quality, warehouse
from elt.generate.thelook import generate_thelook
from elt.load import load_partition
from elt.quality import validate_partition
from elt.sources import get_source

START = date(2024, 9, 1)


def test_generated_thelook_passes_with_its_quirks_recorded(landing: Path) -> None:
    generate_thelook(landing, START, 2, seed=11, scale=0.003)
    for day in (START, START + timedelta(days=1)):
        load_partition("thelook", day)
        results = validate_partition("thelook", day)
        assert {r.table for r in results} == {
            "users",
            "orders",
            "order_items",
            "products",
            "inventory_items",
            "distribution_centers",
            "events",
        }
        assert all(r.success for r in results)
    with warehouse.connect() as conn:
        rules = dict(
            conn.execute("select table_name || '.' || rule, count(*) from audit.dq_exceptions group by 1").fetchall()
        )
        keys = conn.execute(
            "select count(*) from audit.dq_exceptions where record_key is null or record_key = ''"
        ).fetchone()[0]
    assert rules.get("order_items.shipped_before_created", 0) > 0, "a third of shipped items ship before creation"
    assert not any(rule.endswith("_whole_number") or rule.endswith("_is_timestamp") for rule in rules), rules
    assert keys == 0, "every exception of a keyed table names its record's key"


def test_a_returned_order_without_a_return_time_is_a_warning(landing: Path) -> None:
    generate_thelook(landing, START, 1, seed=5, scale=0.002)
    load_partition("thelook", START)
    with warehouse.connect() as conn:  # one more, by hand, next to the generator's ~1% of returned orders
        conn.execute(
            "update raw_thelook.orders set status = 'Returned', returned_at = ''"
            " where order_id = (select min(order_id) from raw_thelook.orders)"
        )
        conn.commit()
    validate_partition("thelook", START)
    with warehouse.connect() as conn:
        flagged, expected = conn.execute(
            "select (select count(*) from audit.dq_exceptions where table_name = 'orders'"
            " and rule = 'returned_without_time' and severity = 'warn'),"
            " (select count(*) from raw_thelook.orders where status = 'Returned' and coalesce(returned_at, '') = '')"
        ).fetchone()
    assert flagged == expected >= 1


def test_the_data_docs_index_lists_the_newest_results_and_every_result_keeps_its_page(
    landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # drawing the index reads every result it lists: it lists the newest few, so a validation costs the same
    # after years of partitions; a partition's index is drawn once, after its last table
    tables = [table.name for table in get_source("thelook").tables]
    monkeypatch.setattr(quality, "DATA_DOCS_INDEX_LIMIT", len(tables))
    days = (START, START + timedelta(days=1))
    generate_thelook(landing, START, 2, seed=3, scale=0.001)
    for day in days:
        load_partition("thelook", day)
        validate_partition("thelook", day)
    index = (config.data_docs_dir() / "index.html").read_text()
    newest, oldest = ([f"raw_thelook.{table}.{day}" for table in tables] for day in reversed(days))
    assert [name for name in newest if name not in index] == [], "every table of the newest partition is listed"
    assert [name for name in oldest if name in index] == [], "the older partition is past the index's limit"
    pages = {page.stem for page in (config.data_docs_dir() / "validations").rglob("*.html")}
    assert {f"warehouse-{name}" for name in newest + oldest} <= pages, "every result keeps its page"
