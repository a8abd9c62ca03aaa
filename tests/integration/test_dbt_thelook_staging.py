"""theLook staging models on generated exports: typed, one row per key, quarantined rows left out."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

from elt import warehouse
from elt.generate.thelook import generate_thelook
from elt.load import load_partition
from elt.quality import validate_partition

START = date(2024, 9, 1)


def test_staging_types_the_exports(landing: Path, run_dbt: Callable[..., subprocess.CompletedProcess]) -> None:
    generate_thelook(landing, START, 1, seed=2, scale=0.002)
    load_partition("thelook", START)
    validate_partition("thelook", START)
    with warehouse.connect() as conn:
        # one hand-made error: an item whose sale_price is not a number is quarantined
        conn.execute(
            "update raw_thelook.order_items set sale_price = 'abc' where id = (select min(id) from"
            " raw_thelook.order_items)"
        )
        conn.commit()
    validate_partition("thelook", START)
    result = run_dbt("build", "--select", "tag:thelook", vars=f"{{run_date: '{START}'}}")
    assert result.returncode == 0, result.stdout[-3000:]
    with warehouse.connect() as conn:
        raw_items, staged_items = conn.execute(
            "select (select count(*) from raw_thelook.order_items),"
            " (select count(*) from staging.stg_thelook__order_items)"
        ).fetchone()
        assert staged_items == raw_items - 1
        prices = conn.execute(
            "select count(*) filter (where sale_price <> round(sale_price, 2)),"
            " count(*) filter (where sale_price is null) from staging.stg_thelook__order_items"
        ).fetchone()
        assert prices == (0, 0)
        untyped = conn.execute(
            "select count(*) from raw_thelook.orders r"
            " join staging.stg_thelook__orders s on s.order_id = r.order_id::bigint"
            " where r.created_at <> '' and s.created_at is null"
        ).fetchone()[0]
        assert untyped == 0, "every timestamp spelling of the export parses"
        cities = conn.execute("select count(*) from staging.stg_thelook__users where city = 'null'").fetchone()[0]
        assert cities == 0
