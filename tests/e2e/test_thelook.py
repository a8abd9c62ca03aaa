"""thelook_daily and customer_segments_weekly end to end, through `elt backfill all` (every DAG): freshness,
idempotency, the report."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from elt import warehouse
from elt.generate import generate
from elt.sources.thelook import TABLES

START, LOADED_DAYS = date(2024, 1, 1), 2  # a Monday: its week ends at T = 2024-01-08
T = date(2024, 1, 8)


def state() -> dict[str, list[tuple]]:
    """Every raw row with its lineage, the exceptions, and the intermediate tables."""
    with warehouse.connect() as conn:
        tables = {
            t.name: conn.execute(f"select * from raw_thelook.{t.name} order by 1").fetchall()  # noqa: S608
            for t in TABLES
        }
        tables["exceptions"] = conn.execute(
            "select table_name, partition_date, batch_id, source_file, source_row, record_key, column_name, rule,"
            " severity, bad_value, message from audit.dq_exceptions order by 1, 2, 4, 5, 8"
        ).fetchall()
        for model in ("int_users_nearest_distribution_center", "int_order_items_costed"):
            tables[model] = conn.execute(f"select * from intermediate.{model} order by 1").fetchall()  # noqa: S608
        return tables


def mart_table_oid() -> int | None:
    """The physical table behind marts.customer_segments: dbt's table materialization makes a new one per build."""
    with warehouse.connect() as conn:
        return conn.execute("select to_regclass('marts.customer_segments')::oid").fetchone()[0]


def test_daily_loads_then_the_weekly_segments(
    elt: Callable[..., subprocess.CompletedProcess], landing: Path, elt_env: dict[str, str]
) -> None:
    generate("thelook", landing, START, LOADED_DAYS, seed=11, scale=0.002)
    generate("vouchers", landing, START, LOADED_DAYS, seed=11, rows_per_day=100)
    generate("electronics", landing, START, LOADED_DAYS, seed=11, scale=0.002)
    generate("store_orders", landing, START, LOADED_DAYS, seed=11, scale=0.002)
    generate("subscriptions", landing, START, LOADED_DAYS, seed=11, scale=0.05)
    last_day = START + timedelta(days=LOADED_DAYS - 1)
    # every DAG: the days first, then the week that starts in the range (its own group, on the same workers)
    result = elt("backfill", "all", "--start", START.isoformat(), "--end", last_day.isoformat())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    finished = [line for line in result.stdout.splitlines() if line.startswith("[")]
    daily = [
        f"{dag} {START + timedelta(days=n)}"
        for dag in ("electronics_daily", "store_orders_daily", "subscriptions_daily", "thelook_daily", "vouchers_daily")
        for n in range(LOADED_DAYS)
    ]
    assert sorted(line.split("] ")[1].split(":")[0] for line in finished[:-1]) == sorted(daily), result.stdout
    assert finished[-1].split("] ")[1].startswith(f"customer_segments_weekly {START}: success"), result.stdout
    loaded = state()
    assert loaded["order_items"] and loaded["int_order_items_costed"] and loaded["exceptions"]
    # the week needs 7 partitions, 2 are loaded: the default only warns (in the run's log), then builds
    run_log = Path(elt_env["ELT_STATE_DIR"]) / "logs" / "runs" / "customer_segments_weekly" / "2024-01-01.log"
    assert "thelook is not fresh up to 2024-01-08" in run_log.read_text()
    built = mart_table_oid()
    assert built is not None
    # the report prints each source's sections (declared by the source modules), then the quality tables
    report = elt("report")
    assert report.returncode == 0, report.stderr[-2000:]
    titles = [line for line in report.stdout.splitlines() if line.startswith("== ")]
    assert titles == [
        f"== marts.electronics_sales_daily: the 7 days to {last_day} ==",
        f"== marts.electronics_kpis as of {last_day} ==",
        f"== marts.electronics_brand_ranking as of {last_day}: the top 5 brands per window ==",
        f"== marts.store_city_summary on {last_day}: the top 10 cities by revenue (RMB) ==",
        f"== marts.store_city_tiers on {last_day} ==",
        f"== marts.store_activity_daily as of {last_day}: the last 7 days ==",
        f"== marts.subscription_revenue_daily as of {last_day}: the last 7 days ==",
        f"== marts.branch_performance as of {last_day}: the top 10 branches by revenue ==",
        f"== marts.customer_segments as of {T}: customers by profit level ==",
        f"== marts.customer_cluster_profiles as of {T} ==",
        f"== marts.voucher_most_used as of {last_day} ==",
        "== audit.dq_exceptions: failing values by rule ==",
        "== audit.dq_runs: the latest run of every partition, per table ==",
    ], report.stdout

    # blocking names the 5 missing partitions and builds nothing
    blocked = elt("run", "customer_segments_weekly", "--date", START.isoformat(), "--conf", '{"freshness": "block"}')
    assert blocked.returncode == 1
    missing = "no successful load for partition(s) 2024-01-03, 2024-01-04, 2024-01-05, 2024-01-06, 2024-01-07"
    assert missing in blocked.stdout, blocked.stdout[-6000:]
    assert mart_table_oid() == built, "a blocked run rebuilt the mart"

    with warehouse.connect() as conn:
        users, buyers, weeks = conn.execute(
            "select count(*), count(*) filter (where r_score is not null), array_agg(distinct as_of_date)"
            " from marts.customer_segments"
        ).fetchone()
        expected_users = conn.execute(
            "select count(*) from staging.stg_thelook__users where created_at < %s", (T,)
        ).fetchone()[0]
        clustered, profiled = conn.execute(
            "select (select count(*) from marts.customer_clusters where as_of_date = %(t)s),"
            " (select sum(customers) from marts.customer_cluster_profiles where as_of_date = %(t)s)",
            {"t": T},
        ).fetchone()
    assert weeks == [T]
    assert users == expected_users > 0
    assert clustered == profiled == buyers > 0

    # re-running a day changes nothing at all: raw rows keep even their lineage
    rerun = elt("run", "thelook_daily", "--date", last_day.isoformat())
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-4000:]
    assert state() == loaded
