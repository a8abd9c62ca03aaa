"""`make bench`: the loader against `psql \\copy` on the same 1,000,000-row voucher file, a whole
vouchers_daily run, a full-size theLook snapshot through thelook_daily and customer_segments_weekly, the
electronics store's full history (2.6M lines in one partition) then 90 daily runs on top of it, and a
14-day backfill of every DAG run one partition at a time and 4 at a time (which must give the same warehouse),
the XLSX and JSON readers on a store's day of orders (elt.bench_readers), a store's day of 200,000 orders through
store_orders_daily, a subscriptions snapshot of 100,000 stores with 2,000,000 periods through subscriptions_daily,
the voucher lookup API (`elt api`) under a bounded loopback load: requests per second, p50 and p99 latency, and
the dashboard's pages on every source's generated days with a year of electronics history: seconds per page.

Also: DuckDB computing the same voucher mart from the same file (the compute floor), a vouchers_daily run under the
scheduler (`elt airflow`), 90 generated daily runs of each daily DAG (is the 90th as fast as the first?), and each
table's validation against one SQL pass evaluating its rules. It ends with one table of every measure against issue
15's goals, each timed run's task shares under it, and the results saved as JSON, compared with the previous results
file.

Everything runs on a throwaway embedded server in a temporary folder, in one process, so the numbers
are measured side by side on the same machine state.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from psycopg import sql

from elt import bench_report, config, load, localdb, warehouse
from elt.bench_readers import bench_readers
from elt.bench_report import Measure, Results
from elt.bench_runs import (
    FLAT_GOAL,
    airflow_params,
    dag_env,
    generated_history,
    run_series,
    time_dag_run,
    time_of,
    validation_measures,
    whole_run,
)
from elt.checksums import checksums
from elt.generate.vouchers import COLUMNS, write_voucher_file
from elt.serve.running import ELT
from elt.sources import SOURCES, get_source

DAY = date(2024, 1, 1)
BACKFILL_START = date(2024, 1, 1)  # a Monday: 14 days are two weeks of customer_segments_weekly
THELOOK_DAY, THELOOK_WEEK = date(2024, 1, 7), date(2024, 1, 1)
STORE_DAY = date(2024, 3, 15)
SUBSCRIPTIONS_DAY = date(2024, 6, 30)

# the goals of issue 15: whole runs in seconds (the daily DAGs' at half their own issues' limits), ratios
GOALS = {
    "vouchers_daily": 15.0,
    "thelook_daily": 45.0,
    "customer_segments_weekly": 15.0,
    "electronics_daily": 90.0,
    "store_orders_daily": 60.0,
    "subscriptions_daily": 60.0,
}
LOADER_GOAL = 0.8  # the loader's speed over psql \copy's, into a plain text table


LINEAGE_DEFAULTS = (
    "_batch_id bigint default 1, _source_file text default 'source/2024-01-01/file.csv', "
    "_source_row bigint default nextval('public.lineage_row'), _partition_date date default '2024-01-01', "
    "_loaded_at timestamptz default '2024-01-01 00:00:00+00'"
)


def bench_copy(
    params: warehouse.ServerParams,
    path: Path,
    rows: int,
    repeats: int,
    source: str = "vouchers",
    day: date = DAY,
    file_columns: tuple[str, ...] = COLUMNS,
) -> dict[str, float]:
    """Median seconds of `psql \\copy` (plain text table; the raw table's shape) and of the loader, interleaved."""
    columns = ", ".join(f'"{c}" text' for c in file_columns)
    with warehouse.connect(params, autocommit=True) as conn:
        conn.execute("drop table if exists public.copy_plain, public.copy_lineage; drop sequence if exists lineage_row")
        conn.execute(f"create table public.copy_plain ({columns})")
        conn.execute("create sequence public.lineage_row cache 10000")
        conn.execute(f"create table public.copy_lineage ({columns}, {LINEAGE_DEFAULTS})")
    names = ", ".join(f'"{c}"' for c in file_columns)
    psql = [localdb.psql_path(), params.libpq_url(), "-v", "ON_ERROR_STOP=1", "-qc"]
    landing = path.parents[2]
    times: dict[str, list[float]] = {"plain": [], "lineage": [], "loader": []}
    for attempt in range(1, repeats + 1):
        for kind in ("plain", "lineage"):
            with warehouse.connect(params, autocommit=True) as conn:
                conn.execute(f"truncate public.copy_{kind}")
            command = f"\\copy public.copy_{kind} ({names}) from '{path}' with (format csv, header true)"
            times[kind].append(time_of(lambda command=command: subprocess.run([*psql, command], check=True)))
        times["loader"].append(time_of(lambda: load.load_partition(source, day, landing, params)))
        print(
            f"  run {attempt}: psql \\copy {times['plain'][-1]:.2f} s, into the raw table's shape "
            f"{times['lineage'][-1]:.2f} s, loader {times['loader'][-1]:.2f} s",
            flush=True,
        )
    with warehouse.connect(params) as conn:
        loaded = sum(
            conn.execute(
                sql.SQL("select count(*) from {} where _partition_date = %s").format(
                    sql.Identifier(get_source(source).schema, table.name)
                ),
                (day,),
            ).fetchone()[0]
            for table in get_source(source).tables
        )
    assert loaded == rows, f"loader loaded {loaded} rows, expected {rows}"
    return {kind: statistics.median(values) for kind, values in times.items()}


def bench_backfill(params: warehouse.ServerParams, tmp_path: Path, days: int, scale: float, results: Results) -> None:
    """`elt backfill all` over `days` days, one run at a time and 4 at a time, each into a warehouse of its own."""
    from elt.generate import generate

    landing = tmp_path / "landing"
    print(f"\nwriting {days} days of every source (scale {scale}) from {BACKFILL_START} ...", flush=True)
    generate("vouchers", landing, BACKFILL_START, days, seed=3)
    for source in ("thelook", "electronics", "store_orders"):
        generate(source, landing, BACKFILL_START, days, seed=3, scale=scale)
    generate("subscriptions", landing, BACKFILL_START, days, seed=3, scale=scale * 10)
    end = BACKFILL_START + timedelta(days=days - 1)
    found = {}
    for at_once in (1, 4):
        target, env = dag_env(params, f"warehouse_backfill_{at_once}", landing, tmp_path / f"state_{at_once}")
        log_path = config.state_dir() / "bench" / f"backfill_{at_once}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        print(f"elt backfill all, {at_once} at a time (log: {log_path}) ...", flush=True)
        command = [
            ELT,
            "backfill",
            "all",
            "--start",
            BACKFILL_START.isoformat(),
            "--end",
            end.isoformat(),
            "--max-active-runs",
            str(at_once),
        ]
        with log_path.open("w") as log_file:
            clock = time.perf_counter()
            subprocess.run(command, env=env, stdout=log_file, stderr=subprocess.STDOUT, check=True)
            seconds = time.perf_counter() - clock
        found[at_once] = (seconds, checksums(target))
    daily_dags = [dag_id for source in SOURCES.values() for dag_id in source.dag_ids if dag_id.endswith("_daily")]
    runs = len(daily_dags) * days + len({BACKFILL_START + timedelta(days=n) for n in range(0, days, 7)})
    for at_once, (seconds, _) in found.items():
        print(f"{days}-day backfill of every DAG ({runs} runs), {at_once} at a time: {seconds:.0f} s")
        results.add(Measure(f"{days}-day backfill of every DAG ({runs} runs), {at_once} at a time", seconds, "s"))
    differing = sorted(name for name in found[1][1] if found[1][1][name] != found[4][1].get(name))
    results.details["backfill_4_equals_1"] = not differing
    print(
        f"4 at a time gives the warehouse of 1 at a time (checksums of raw, exceptions, intermediate, marts): "
        f"{'yes' if not differing else 'NO, differs in ' + ', '.join(differing)}"
    )
    if differing:
        raise SystemExit("a concurrent backfill gave a different warehouse")


def bench_thelook(params: warehouse.ServerParams, tmp_path: Path, scale: float, results: Results) -> None:
    """A full-size snapshot through thelook_daily, then the week's customer_segments_weekly on it."""
    from elt.generate.thelook import write_thelook_snapshot

    landing = tmp_path / "landing"
    print(f"\nwriting a theLook snapshot (scale {scale}) for {THELOOK_DAY} ...", flush=True)
    clock = time.perf_counter()
    paths = write_thelook_snapshot(landing / "thelook" / THELOOK_DAY.isoformat(), THELOOK_DAY, seed=1, scale=scale)
    size = sum(path.stat().st_size for path in paths) / 1e6
    print(f"  {len(paths)} files, {size:.0f} MB in {time.perf_counter() - clock:.0f} s", flush=True)
    thelook_params, env = dag_env(params, "warehouse_thelook", landing, tmp_path / "state")
    daily_run = time_dag_run(env, "thelook_daily", THELOOK_DAY, results)
    # the week [2024-01-01, 2024-01-08) holds the snapshot's day; the other 6 days are reported missing (a warning)
    weekly_run = time_dag_run(env, "customer_segments_weekly", THELOOK_WEEK, results)
    daily, weekly = daily_run.wall, weekly_run.wall
    with warehouse.connect(thelook_params) as conn:
        tables = conn.execute(
            "select table_name, sum(rows_loaded), extract(epoch from max(finished_at) - min(started_at))"
            " from audit.load_log where source = 'thelook' group by 1 order by 2 desc"
        ).fetchall()
        checked = conn.execute(
            "select sum(rows_checked), extract(epoch from max(finished_at) - min(started_at)) from audit.dq_runs"
        ).fetchone()
        customers, buyers = conn.execute("select count(*), count(r_score) from marts.customer_segments").fetchone()
        clusters = conn.execute("select count(*) from marts.customer_cluster_profiles").fetchone()[0]
    tables = [(name, int(table_rows), float(seconds)) for name, table_rows, seconds in tables]
    rows = sum(table_rows for _, table_rows, _ in tables)
    print("\ntheLook rows loaded per table: " + ", ".join(f"{name} {n:,}" for name, n, _ in tables))
    print(
        f"thelook_daily on {rows:,} rows: {daily:.0f} s, {rows / daily:,.0f} rows/s end to end "
        f"(load {sum(s for *_, s in tables):.0f} s, validate {float(checked[1]):.0f} s; goal <= "
        f"{GOALS['thelook_daily']:.0f} s: {'met' if daily <= GOALS['thelook_daily'] else 'NOT met'})"
    )
    print(
        f"customer_segments_weekly on {customers:,} customers ({buyers:,} buyers, {clusters} clusters): "
        f"{weekly:.0f} s, {customers / weekly:,.0f} customers/s (goal <= {GOALS['customer_segments_weekly']:.0f} s: "
        f"{'met' if weekly <= GOALS['customer_segments_weekly'] else 'NOT met'})"
    )
    results.add(
        whole_run(daily_run, f"snapshot (scale {scale:g})", GOALS["thelook_daily"]),
        *validation_measures(thelook_params, "thelook", THELOOK_DAY, daily_run, results),
        whole_run(weekly_run, f"on the snapshot (scale {scale:g})", GOALS["customer_segments_weekly"]),
    )


def bench_vouchers(params: warehouse.ServerParams, tmp_path: Path, args: argparse.Namespace, results: Results) -> None:
    """The loader against psql \\copy on one voucher file, DuckDB computing the voucher mart from it, a whole
    vouchers_daily run on it in-process and under the scheduler, then a history of daily runs."""
    from elt.bench_duckdb import compare_marts, voucher_mart_seconds

    landing = tmp_path / "landing"
    path = landing / "vouchers" / DAY.isoformat() / "vouchers.csv"
    rows = args.rows
    print(f"writing {rows:,} voucher rows to {path.name} ...", flush=True)
    write_voucher_file(path, rows, seed=1, day=DAY, file_format="csv")
    print(f"  {path.stat().st_size / 1e6:.0f} MB", flush=True)
    results.add(*_loader_against_copy(bench_copy(params, path, rows, args.repeats), rows, f"{rows:,} vouchers"))
    floor, duck_mart = voucher_mart_seconds(path, DAY)
    print(f"DuckDB, the voucher mart from the same file: {floor:.2f} s (median of 3)", flush=True)
    results.add(Measure(f"DuckDB voucher mart, {rows:,} rows (compute floor)", floor, "s"))
    if args.skip_dag:
        return
    target, env = dag_env(params, "warehouse_dag", landing, tmp_path / "state")
    run = time_dag_run(env, "vouchers_daily", DAY, results, f"vouchers_daily {DAY} in-process")
    print(f"vouchers_daily on {rows:,} rows: {run.wall:.0f} s (goal <= {GOALS['vouchers_daily']:.0f} s)")
    same = compare_marts(duck_mart, target, DAY)
    print("DuckDB's voucher mart equals marts.voucher_most_used" if same is True else f"DuckDB's mart DIFFERS: {same}")
    results.details["duckdb_mart_matches"] = same
    results.add(
        whole_run(run, f"{rows:,} rows, in-process (elt run)", GOALS["vouchers_daily"]),
        Measure(
            "vouchers_daily: in-process / DuckDB floor",
            run.wall / floor,
            "x",
            note="DuckDB's mart equals marts.voucher_most_used" if same is True else f"DuckDB's mart DIFFERS: {same}",
        ),
        *validation_measures(target, "vouchers", DAY, run, results),
    )
    if not args.no_scheduler:
        results.add(*bench_vouchers_scheduler(params, tmp_path, landing, rows, results))
    results.add(
        generated_history(
            params,
            tmp_path / "history",
            "vouchers_daily",
            DAY,
            args.history_days,
            results,
            rows_per_day=args.history_rows,
        )
    )


def bench_vouchers_scheduler(
    params: warehouse.ServerParams, tmp_path: Path, landing: Path, rows: int, results: Results
) -> list[Measure]:
    """`elt run vouchers_daily` on a fresh warehouse with `elt airflow` running (LocalExecutor): the users' path."""
    from elt.bench_scheduler import airflow_running

    _, env = dag_env(params, "warehouse_scheduler", landing, tmp_path / "scheduler_state")
    log_path = config.state_dir() / "bench" / "airflow.log"
    print(f"\nstarting elt airflow for a run under the scheduler (log: {log_path}) ...", flush=True)
    with airflow_running(env, log_path, airflow_params(env), "vouchers_daily") as scheduler_env:
        run = time_dag_run(scheduler_env, "vouchers_daily", DAY, results, f"vouchers_daily {DAY} under the scheduler")
    print(f"vouchers_daily under the scheduler: {run.wall:.0f} s, the run itself {run.run_seconds or 0:.0f} s")
    return [
        whole_run(run, f"{rows:,} rows, under the scheduler (elt airflow)", GOALS["vouchers_daily"]),
        Measure("vouchers_daily: under the scheduler, dag_run start..end", run.run_seconds, "s"),
    ]


def _loader_against_copy(medians: dict[str, float], rows: int, what: str) -> list[Measure]:
    copy_s, lineage_s, load_s = medians["plain"], medians["lineage"], medians["loader"]
    print(f"\npsql \\copy into a text table : {rows / copy_s:>10,.0f} rows/s  ({copy_s:.2f} s, median)")
    print(
        f"  same, raw table's lineage  : {rows / lineage_s:>10,.0f} rows/s  ({lineage_s:.2f} s, median;"
        " the 5 lineage values per row filled by defaults)"
    )
    print(f"elt loader (COPY + lineage)  : {rows / load_s:>10,.0f} rows/s  ({load_s:.2f} s, median)")
    ratio = copy_s / load_s
    goal = "met" if ratio >= LOADER_GOAL else "NOT met"
    print(f"loader / \\copy               : {ratio:>10.2f}   (goal >= {LOADER_GOAL:.2f}: {goal})")
    return [
        Measure(f"psql \\copy, {what} (text table)", copy_s, "s"),
        Measure(f"loader, {what}", load_s, "s"),
        Measure(f"loader speed / psql \\copy's, {what}", ratio, "x", LOADER_GOAL, "higher"),
    ]


ELECTRONICS_HISTORY = (date(2020, 1, 5), date(2020, 11, 21))  # the real export's range
ELECTRONICS_ARRIVED = date(2020, 11, 22)  # the partition of the first delivery


def bench_electronics(
    params: warehouse.ServerParams, tmp_path: Path, rows: int, days: int, repeats: int, results: Results
) -> None:
    """The full history in one partition (loader against \\copy, then the whole run), then `days` daily runs on
    top of it: the first and the last daily run are timed alike (`elt run`), the ones between run as a backfill."""
    from elt.generate.electronics import COLUMNS as ELECTRONICS_COLUMNS
    from elt.generate.electronics import write_electronics_day, write_electronics_history

    landing = tmp_path / "landing"
    path = landing / "electronics" / ELECTRONICS_ARRIVED.isoformat() / "kz.csv"
    print(
        f"\nwriting {rows:,} electronics lines of {ELECTRONICS_HISTORY[0]} .. {ELECTRONICS_HISTORY[1]} ...", flush=True
    )
    write_electronics_history(path, *ELECTRONICS_HISTORY, seed=1, rows=rows)
    print(f"  {path.stat().st_size / 1e6:.0f} MB", flush=True)
    medians = bench_copy(params, path, rows, repeats, "electronics", ELECTRONICS_ARRIVED, ELECTRONICS_COLUMNS)
    results.add(*_loader_against_copy(medians, rows, f"{rows:,} electronics lines"))
    target, env = dag_env(params, "warehouse_electronics", landing, tmp_path / "state")
    run = time_dag_run(env, "electronics_daily", ELECTRONICS_ARRIVED, results, "electronics_daily history run")
    goal = GOALS["electronics_daily"]
    print(
        f"electronics_daily on the history ({rows:,} lines): {run.wall:.0f} s  (goal <= {goal:.0f} s: "
        f"{'met' if run.wall <= goal else 'NOT met'})"
    )
    results.add(
        whole_run(run, f"history of {rows:,} lines", goal),
        *validation_measures(target, "electronics", ELECTRONICS_ARRIVED, run, results),
    )
    if days < 2:
        return
    daily = [ELECTRONICS_ARRIVED + timedelta(days=n) for n in range(1, days + 1)]
    for day in daily:
        write_electronics_day(landing / "electronics" / day.isoformat() / "purchases.csv", day, seed=1, scale=1.0)
    flat = run_series(env, "electronics_daily", daily, results, "on top of the history")
    with warehouse.connect(target) as conn:
        lines = conn.execute("select count(*) from marts.electronics_order_lines").fetchone()[0]
    flat.note += f" ({lines:,} lines in the fact)"
    verdict = "met" if flat.met else "NOT met"
    print(f"electronics_daily, {flat.note}; ratio {flat.value:.2f} (goal <= {FLAT_GOAL}: {verdict})")
    results.add(flat)


def bench_store_orders(params: warehouse.ServerParams, tmp_path: Path, scale: float, results: Results) -> None:
    """A generated day of the two order feeds (200,000 orders at scale 1) through store_orders_daily."""
    from elt.generate.store_orders import generate_store_orders

    landing = tmp_path / "landing"
    print(f"\nwriting a store_orders day (scale {scale}) for {STORE_DAY} ...", flush=True)
    paths = generate_store_orders(landing, STORE_DAY, 1, seed=1, scale=scale)
    size = sum(path.stat().st_size for path in paths) / 1e6
    store_params, env = dag_env(params, "warehouse_store_orders", landing, tmp_path / "state")
    run = time_dag_run(env, "store_orders_daily", STORE_DAY, results)
    seconds = run.wall
    with warehouse.connect(store_params) as conn:
        loads = conn.execute(
            "select table_name, sum(rows_loaded), extract(epoch from max(finished_at) - min(started_at))"
            " from audit.load_log where source = 'store_orders' group by 1 order by 2 desc"
        ).fetchall()
        load_seconds = conn.execute(
            "select extract(epoch from max(finished_at) - min(started_at)) from audit.load_log"
            " where source = 'store_orders'"
        ).fetchone()[0]
        checked = conn.execute(
            "select extract(epoch from max(finished_at) - min(started_at)) from audit.dq_runs"
        ).fetchone()[0]
        orders = conn.execute("select coalesce(sum(orders), 0) from marts.store_city_summary").fetchone()[0]
    print(
        f"store_orders load of both files ({size:.0f} MB): {float(load_seconds):.1f} s ("
        + ", ".join(f"{name} {int(n):,} rows in {float(s):.1f} s" for name, n, s in loads)
        + f"); validation {float(checked):.1f} s"
    )
    goal = GOALS["store_orders_daily"]
    print(f"store_orders_daily on {orders:,} orders: {seconds:.0f} s  (goal <= {goal:.0f} s)")
    results.add(
        whole_run(run, f"a day at scale {scale:g}", goal),
        *validation_measures(store_params, "store_orders", STORE_DAY, run, results),
    )


def bench_subscriptions(
    params: warehouse.ServerParams, tmp_path: Path, stores: int, periods: int, results: Results
) -> None:
    """A snapshot of `stores` stores with `periods` install and subscription periods (and the day's other files at the
    default scale) through subscriptions_daily: issue 15's goal is 100,000 stores and 2,000,000 periods in <= 60 s."""
    from elt.generate.subscriptions import generate_subscriptions, write_stores_snapshot

    landing = tmp_path / "landing"
    print(f"\nwriting a subscriptions snapshot of {stores:,} stores for {SUBSCRIPTIONS_DAY} ...", flush=True)
    generate_subscriptions(landing, SUBSCRIPTIONS_DAY, 1, seed=1)
    path = landing / "subscriptions" / SUBSCRIPTIONS_DAY.isoformat() / "dataset_sample.csv"
    written = write_stores_snapshot(path, SUBSCRIPTIONS_DAY, stores, periods, seed=1)
    print(f"  {written:,} periods, {path.stat().st_size / 1e6:.0f} MB", flush=True)
    target, env = dag_env(params, "warehouse_subscriptions", landing, tmp_path / "state")
    run = time_dag_run(env, "subscriptions_daily", SUBSCRIPTIONS_DAY, results)
    seconds = run.wall
    with warehouse.connect(target) as conn:
        loaded, load_seconds = conn.execute(
            "select sum(rows_loaded), extract(epoch from max(finished_at) - min(started_at)) from audit.load_log"
            " where source = 'subscriptions' and table_name = 'stores'"
        ).fetchone()
        checked = conn.execute(
            "select extract(epoch from max(finished_at) - min(started_at)) from audit.dq_runs"
            " where table_name = 'stores'"
        ).fetchone()[0]
        spans = conn.execute(
            "select count(*), (select count(*) from staging.stg_subscriptions__subscription_periods)"
            " from staging.stg_subscriptions__install_periods"
        ).fetchone()
        lifespans = conn.execute("select count(*) from marts.store_lifespan").fetchone()[0]
    print(
        f"subscriptions stores load ({int(loaded):,} rows): {float(load_seconds):.1f} s; its validation"
        f" {float(checked):.1f} s; parsed {spans[0]:,} install and {spans[1]:,} subscription periods"
    )
    goal = GOALS["subscriptions_daily"]
    print(f"subscriptions_daily on {lifespans:,} stores' lifespans: {seconds:.0f} s  (goal <= {goal:.0f} s)")
    results.add(
        whole_run(run, f"{stores:,} stores, {periods:,} periods", goal),
        *validation_measures(target, "subscriptions", SUBSCRIPTIONS_DAY, run, results),
    )


def bench_api(params: warehouse.ServerParams, tmp_path: Path, requests: int, clients: int, results: Results) -> None:
    """`elt api` (its own process, as users run it) against the vouchers mart of a generated day, queried on the
    loopback by `clients` threads with an HTTP client each, `requests` requests in all; every answer must be a 200."""
    import random
    import threading

    import httpx
    import psycopg

    from elt.generate import generate
    from elt.serve.running import serving

    landing = tmp_path / "landing"
    generate("vouchers", landing, DAY, 1, seed=1, rows_per_day=20_000)
    target, env = dag_env(params, "warehouse_api", landing, tmp_path / "state")
    run = time_dag_run(env, "vouchers_daily", DAY, results, f"vouchers_daily {DAY} for the API's mart")
    print(f"\nvouchers_daily {DAY} for the API's mart: {run.wall:.0f} s", flush=True)
    with psycopg.connect(target.conninfo()) as conn:
        countries = [row[0] for row in conn.execute("select distinct country_code from marts.voucher_most_used")]
    rng = random.Random(1)
    queries = [
        {"country_code": rng.choice(countries), "segment_type": "frequent_segment", "total_orders": rng.randint(0, 60)}
        if rng.random() < 0.5
        else {
            "country_code": rng.choice(countries),
            "segment_type": "recency_segment",
            "last_order_ts": (DAY - timedelta(days=rng.randint(0, 400))).isoformat() + "T12:00:00",
        }
        for _ in range(requests)
    ]
    with serving("api", "/openapi.json", env, seconds=30) as base:
        with httpx.Client(base_url=base) as warm:  # the pool's connections and the first imports
            for query in queries[:20]:
                warm.get("/vouchers/most-used", params=query)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        work = iter(queries)

        def client() -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                while True:
                    with lock:
                        query = next(work, None)
                    if query is None:
                        return
                    start = time.perf_counter()
                    status = http.get("/vouchers/most-used", params=query).status_code
                    elapsed = time.perf_counter() - start
                    with lock:
                        latencies.append(elapsed)
                        statuses[status] = statuses.get(status, 0) + 1

        threads = [threading.Thread(target=client) for _ in range(clients)]
        clock = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - clock
    latencies.sort()
    p50, p99 = (latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 for q in (0.50, 0.99))
    print(
        f"voucher lookup API, {requests:,} requests from {clients} concurrent clients (loopback): "
        f"{requests / seconds:,.0f} requests/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms; statuses {statuses}"
    )
    results.add(
        Measure(f"API requests/s, {clients} clients", requests / seconds, "req/s", better="higher"),
        Measure("API p50 latency", p50, "ms"),
        Measure("API p99 latency", p99, "ms"),
    )
    if set(statuses) != {200}:
        raise SystemExit(f"the API answered other than 200 under load: {statuses}")


DASHBOARD_START = date(2024, 1, 1)  # a Monday: the week's customer segments are built too
DASHBOARD_GOAL_SECONDS = 2.0


def bench_dashboard(
    params: warehouse.ServerParams, tmp_path: Path, electronics_rows: int, days: int, out: Results
) -> None:
    """Every page of the dashboard rendered by Streamlit's AppTest (the server-side run a browser session makes,
    queries and charts; not the browser's drawing) on `days` generated days of every source, the electronics store's
    first file holding a year of history of `electronics_rows` lines (elt.demo builds the marts without Airflow).
    Cold: the page's first run on empty caches (its queries run); warm: the same page again (cached per date)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from elt.demo import build_demo, dbt_subprocess
    from elt.serve import dashboard_script
    from elt.serve.dashboard import PAGES

    target = params.database("warehouse_dashboard")
    warehouse.bootstrap(target)
    os.environ["ELT_WAREHOUSE_URL"], os.environ["ELT_LANDING_DIR"] = target.libpq_url(), str(tmp_path / "landing")
    print(
        f"\nbuilding every source's marts for {days} day(s) from {DASHBOARD_START}, a year of electronics history of "
        f"{electronics_rows:,} lines (elt.demo) ...",
        flush=True,
    )
    clock = time.perf_counter()
    build_demo(tmp_path / "landing", DASHBOARD_START, days, dbt_subprocess(target, tmp_path / "dbt"), seed=1,
               electronics_rows=electronics_rows)  # fmt: skip
    with warehouse.connect(target) as conn:
        lines = conn.execute("select count(*) from marts.electronics_order_lines").fetchone()[0]
    print(f"  built in {time.perf_counter() - clock:.0f} s ({lines:,} electronics lines in the fact)", flush=True)
    app = AppTest.from_file(str(dashboard_script()), default_timeout=120)
    results = []
    for name, title, _ in PAGES:
        st.cache_data.clear()
        app.switch_page(f"views/{name}.py")
        cold = time_of(app.run)
        warm = time_of(app.run)
        if app.exception:
            raise SystemExit(f"the dashboard's {title} page raised: {app.exception[0].value}")
        results.append((title, cold, warm))
    browser = _dashboard_in_chromium(target, [(name, title) for name, title, _ in PAGES])
    width = max(len(title) for title, _, _ in results)
    print(f"dashboard pages (goal < {DASHBOARD_GOAL_SECONDS:.0f} s a page):")
    for title, cold, warm in results:
        verdict = "met" if cold < DASHBOARD_GOAL_SECONDS else "NOT met"
        drawn = f"  in Chromium {browser[title]:5.2f} s" if title in browser else ""
        print(f"  {title:<{width}}  AppTest cold {cold:5.2f} s  warm {warm:5.2f} s  ({verdict}){drawn}")
    slowest = max(results, key=lambda page: page[1])
    out.add(Measure("dashboard slowest page, cold (AppTest)", slowest[1], "s", DASHBOARD_GOAL_SECONDS, note=slowest[0]))
    if browser:
        title = max(browser, key=browser.get)
        out.add(Measure("dashboard slowest page in Chromium", browser[title], "s", note=title))


# every chart of the page drawn (each page has one at least) and the script run over
DRAWN_JS = """() => {
    const charts = document.querySelectorAll('[data-testid="stVegaLiteChart"]');
    const drawn = document.querySelectorAll(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks');
    return charts.length > 0 && drawn.length === charts.length
        && !document.querySelector('[data-testid="stStatusWidget"]');
}"""


def _dashboard_in_chromium(target: warehouse.ServerParams, pages: list[tuple[str, str]]) -> dict[str, float]:
    """Seconds from navigation to every chart drawn, per page, with `elt dashboard` in its own process and headless
    Chromium (Debian's /usr/bin/chromium) through Playwright; {} without Chromium. Each page is opened twice, the
    second time measured (the server's caches warm, as for the second user of the morning)."""
    from elt.serve.running import serving

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        print("no /usr/bin/chromium: the pages are not timed in a browser (apt-get install -y chromium)")
        return {}
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "ELT_WAREHOUSE_URL": target.libpq_url()}
    drawn = DRAWN_JS
    seconds: dict[str, float] = {}
    with serving("dashboard", "/_stcore/health", env) as base:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            for index, (name, title) in enumerate(pages):
                for _ in range(2):
                    clock = time.perf_counter()
                    page.goto(f"{base}/{'' if index == 0 else name}")
                    page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
                    page.wait_for_function(drawn, timeout=60_000)
                    seconds[title] = time.perf_counter() - clock
            browser.close()
    return seconds


PARTS = (
    "vouchers", "thelook", "electronics", "backfill", "readers", "store_orders", "subscriptions", "api", "dashboard",
)  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--only", choices=PARTS, help="run one part of the benchmark")
    parser.add_argument("--backfill-days", type=int, default=14, help="days of the backfill benchmark (default 14)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="voucher rows (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of loader against \\copy (default 5)")
    parser.add_argument("--skip-dag", action="store_true", help="vouchers: only the loader against psql \\copy")
    parser.add_argument("--no-scheduler", action="store_true", help="vouchers: no run under `elt airflow`")
    parser.add_argument(
        "--history-days",
        type=int,
        default=90,
        help="vouchers, thelook, store_orders, subscriptions: generated daily runs of the flat-with-history check (90)",
    )
    parser.add_argument("--history-rows", type=int, default=20_000, help="vouchers: rows of each daily file (20,000)")
    parser.add_argument("--thelook-scale", type=float, default=1.0, help="theLook volume (1 = full size)")
    parser.add_argument("--electronics-rows", type=int, default=2_633_521, help="lines of the electronics history")
    parser.add_argument(
        "--electronics-days",
        type=int,
        default=90,
        help="daily electronics runs after the history (under 2: the history alone)",
    )
    parser.add_argument("--xlsx-rows", type=int, default=160_000, help="readers: rows of the workbook (160,000)")
    parser.add_argument("--json-records", type=int, default=40_000, help="readers: JSON records (40,000)")
    parser.add_argument("--store-scale", type=float, default=1.0, help="store_orders volume (1 = 200,000 orders)")
    parser.add_argument("--stores", type=int, default=100_000, help="subscriptions: stores in the snapshot (100,000)")
    parser.add_argument("--periods", type=int, default=2_000_000, help="subscriptions: their periods (2,000,000)")
    parser.add_argument("--api-requests", type=int, default=2_000, help="api: requests in all (2,000)")
    parser.add_argument("--api-clients", type=int, default=8, help="api: concurrent clients (8)")
    parser.add_argument(
        "--dashboard-days", type=int, default=2, help="dashboard: generated days of every source (default 2)"
    )
    parser.add_argument(
        "--dashboard-electronics-rows",
        type=int,
        default=2_633_521,
        help="dashboard: lines of the electronics store's year of history (default 2,633,521, the real export's)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="an earlier results file to compare with (default: the newest in the results folder, if any)",
    )
    args = parser.parse_args(argv)
    if args.compare and not args.compare.is_file():
        parser.error(f"--compare: no results file {args.compare}")
    return args


def run_parts(params: warehouse.ServerParams, tmp_path: Path, args: argparse.Namespace, results: Results) -> None:
    """The parts `--only` selects (all by default), each adding its measures to `results`."""
    wanted = {args.only} if args.only else set(PARTS)
    if "vouchers" in wanted:
        bench_vouchers(params, tmp_path / "vouchers", args, results)
    if "thelook" in wanted:
        bench_thelook(params, tmp_path / "thelook", args.thelook_scale, results)
        history = tmp_path / "thelook" / "history"
        results.add(generated_history(params, history, "thelook_daily", THELOOK_DAY, args.history_days, results))
    if "electronics" in wanted:
        bench_electronics(
            params,
            tmp_path / "electronics",
            args.electronics_rows,
            args.electronics_days,
            min(args.repeats, 3),
            results,
        )
    if "readers" in wanted:
        results.add(
            *bench_readers(params, tmp_path / "readers", args.xlsx_rows, args.json_records, min(args.repeats, 3))
        )
    if "store_orders" in wanted:
        bench_store_orders(params, tmp_path / "store_orders", args.store_scale, results)
        history = tmp_path / "store_orders" / "history"
        results.add(generated_history(params, history, "store_orders_daily", STORE_DAY, args.history_days, results))
    if "subscriptions" in wanted:
        bench_subscriptions(params, tmp_path / "subscriptions", args.stores, args.periods, results)
        history = tmp_path / "subscriptions" / "history"
        results.add(
            generated_history(params, history, "subscriptions_daily", SUBSCRIPTIONS_DAY, args.history_days, results)
        )
    if "backfill" in wanted:
        bench_backfill(params, tmp_path / "backfill", args.backfill_days, 0.01, results)
    if "api" in wanted:
        bench_api(params, tmp_path / "api", args.api_requests, args.api_clients, results)
    if "dashboard" in wanted:
        bench_dashboard(params, tmp_path / "dashboard", args.dashboard_electronics_rows, args.dashboard_days, results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = config.state_dir() / "bench" / "results"
    results = Results(datetime.now(UTC).isoformat(timespec="seconds"), options=vars(args))
    with tempfile.TemporaryDirectory(prefix="elt-bench-") as tmp:
        tmp_path = Path(tmp)
        params = localdb.start(tmp_path / "pg")
        try:
            warehouse.bootstrap(params)
            results.machine = machine_info(params)
            run_parts(params, tmp_path, args, results)
        finally:
            localdb.stop(tmp_path / "pg")
            report(results, folder, args.compare)
    return 0


def machine_info(params: warehouse.ServerParams) -> dict[str, str | int | None]:
    """What the numbers were measured on: cores, Python, Postgres, the checkout's commit (and whether it was clean)."""
    import platform

    with warehouse.connect(params) as conn:
        postgres = conn.execute("show server_version").fetchone()[0]

    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=config.PROJECT_DIR, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": postgres,
        "git_commit": git("rev-parse", "HEAD") or None,
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def report(results: Results, folder: Path, earlier: Path | None) -> None:
    """The results table and the runs' task shares on the terminal, and the results saved as JSON (a partial run's
    too, so a failure still leaves what was measured)."""
    earlier = earlier or bench_report.newest_comparable(folder, {m.name for m in results.measures})
    previous = bench_report.previous_values(earlier) if earlier else None
    print(f"\n=== make bench results{f' (compared with {earlier.name})' if earlier else ''} ===")
    print(bench_report.format_table(results.measures, previous))
    if results.runs:
        print("\neach timed run's tasks (seconds, share of the run's start..end):")
        print(bench_report.format_shares(results.runs))
    print(f"\nresults saved to {bench_report.save(results, folder)}")


if __name__ == "__main__":
    sys.exit(main())
