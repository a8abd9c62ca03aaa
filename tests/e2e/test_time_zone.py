"""A server whose default time zone is America/New_York gives the warehouse of a UTC server: one vouchers and one
theLook day through one `elt backfill` of their two DAGs on each (at the same time), then checksums of raw rows,
exceptions, intermediate and mart tables. The theLook files carry times whose reading depends on the zone unless every
connection is UTC and the casts honour what the value says: a date alone, a named zone, and a naive
`shipped_at` that is before its `created_at` only in UTC (a validation rule compares them)."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from elt import localdb, warehouse
from elt.checksums import checksums
from elt.generate import generate
from elt.warehouse import ServerParams

DAY = date(2024, 1, 2)


@pytest.fixture(scope="module")
def new_york_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerParams]:
    """An embedded server started with `timezone = 'America/New_York'` in its config."""
    data_dir = tmp_path_factory.mktemp("pg_new_york")
    params = localdb.start(data_dir, settings={"timezone": "'America/New_York'"})
    yield params
    localdb.stop(data_dir)


@pytest.fixture
def new_york_env(
    new_york_server: ServerParams, another_elt_env: Callable, tmp_path: Path
) -> Iterator[tuple[ServerParams, dict[str, str]]]:
    """A warehouse on the New York server (Airflow's metadata on the test server, as for the UTC run)."""
    with another_elt_env(new_york_server, tmp_path / "new_york") as pair:
        yield pair


def zone_sensitive_times(path: Path) -> None:
    """Rewrite the first two order items' times into spellings that a non-UTC reading would change."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["created_at"] = "2020-01-06"  # a date alone: 00:00 UTC
    rows[1]["created_at"] = "2020-01-06 19:17:29 America/New_York"  # 2020-01-07 00:17:29 UTC
    rows[1]["shipped_at"] = "2020-01-07 00:00:00"  # UTC: before created_at, a rule flags it; in New York: after
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_new_york_server_gives_the_warehouse_of_a_utc_server(
    landing: Path,
    elt_env: dict[str, str],
    warehouse_params: ServerParams,
    new_york_env: tuple[ServerParams, dict[str, str]],
) -> None:
    new_york, env = new_york_env
    p = new_york
    with psycopg.connect(host=p.host, port=p.port, user=p.user, dbname=p.dbname) as conn:
        assert conn.execute("show timezone").fetchone()[0] == "America/New_York"  # the server's default
    generate("vouchers", landing, DAY, 1, seed=3, rows_per_day=200)
    generate("thelook", landing, DAY, 1, seed=3, scale=0.002)
    zone_sensitive_times(landing / "thelook" / DAY.isoformat() / "order_items.csv")

    dags = ["thelook_daily", "vouchers_daily"]
    command = [str(Path(sys.executable).parent / "elt"), "backfill", *dags, "--start", str(DAY), "--end", str(DAY)]
    runs = [
        subprocess.Popen(command, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for e in (elt_env, env)
    ]
    for run in runs:
        out, err = run.communicate(timeout=900)
        assert run.returncode == 0, out[-2000:] + err[-4000:]

    utc_sums, new_york_sums = checksums(warehouse_params), checksums(new_york)
    assert {k for k, v in utc_sums.items() if v[0]} >= {
        "raw_vouchers.voucher_assignments",
        "raw_thelook.order_items",
        "audit.dq_exceptions",
        "intermediate.int_order_items_costed",
        "marts.voucher_most_used",
    }
    assert new_york_sums == utc_sums
    with warehouse.connect(new_york) as conn:
        items = conn.execute(
            "select order_item_id, created_at::text from intermediate.int_order_items_costed"
            " where order_item_id in (1, 2) order by 1"
        ).fetchall()
        flagged = conn.execute(
            "select source_row from audit.dq_exceptions where table_name = 'order_items'"
            " and rule = 'shipped_before_created'"
        ).fetchall()
    assert items == [(1, "2020-01-06 00:00:00"), (2, "2020-01-07 00:17:29")]
    assert (3,) in flagged  # line 3 of the file: the second item
