"""Every source's marts for a few generated days, built in-process without Airflow (the dashboard's tests and bench).

Each day runs what the sources' daily DAGs run (load, validate, their Python steps, dbt by tag: the sources' dbt
steps together, one dbt call per step; dbt's data tests are left out, the DAGs' own tests check them), then the week's
customer segmentation. dbt runs through `run_dbt`, a callable like the tests' dbt runner (`run_dbt(*args, vars=...)`
returning a CompletedProcess).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from elt import warehouse
from elt.config import DBT_PROJECT_DIR, PROJECT_DIR
from elt.connection import ServerParams

log = logging.getLogger(__name__)
DbtRunner = Callable[..., subprocess.CompletedProcess]
NO_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def daily_sources() -> list[str]:
    """The sources with a daily DAG (every one with a generator, today)."""
    from elt.sources import SOURCES

    return [name for name, source in SOURCES.items() if any(dag.endswith("_daily") for dag in source.dag_ids)]


def dbt_subprocess(params: ServerParams, work: Path) -> DbtRunner:
    """A dbt runner that starts the venv's `dbt` against `params` as the transformer role (the bench's)."""
    env = {
        **os.environ,
        "ELT_PG_HOST": params.host,
        "ELT_PG_PORT": str(params.port),
        "ELT_PG_USER": warehouse.TRANSFORMER,
        "ELT_PG_PASSWORD": warehouse.role_params(warehouse.TRANSFORMER, params).password or "elt",
        "ELT_PG_DATABASE": params.dbname,
        **params.libpq_env(),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    dbt = str(Path(sys.executable).parent / "dbt")

    def run(*args: str, vars: str | None = None) -> subprocess.CompletedProcess:
        command = [dbt, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
        if vars is not None:
            command += ["--vars", vars]
        return subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)

    return run


def _dbt(run_dbt: DbtRunner, *args: str, vars: str) -> None:
    result = run_dbt(*args, *(NO_TESTS if args[0] == "build" else ()), vars=vars)
    if result.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}")


def run_day(day: date, landing: Path, run_dbt: DbtRunner) -> None:
    """One daily partition of every source, in their DAGs' order (their dbt steps in one dbt call each)."""
    from elt.load import load_partition
    from elt.quality import validate_table
    from elt.sources import get_source
    from elt.store_orders import record_fx_rates
    from elt.tiers import tier_cities

    dates = json.dumps({"run_date": day.isoformat(), "data_interval_end": (day + timedelta(days=1)).isoformat()})
    names = daily_sources()
    for name in names:
        load_partition(name, day, landing)
    _dbt(run_dbt, "seed", "--select", "tag:store_orders_reference", vars=dates)
    for name in names:
        source = get_source(name)
        for table in source.tables:
            validate_table(source, table, day)
    record_fx_rates(day)
    tags = [f"tag:{name}" for name in names]
    _dbt(run_dbt, "build", "--select", *tags, "--exclude", "tag:store_orders_marts", vars=dates)
    tier_cities(day)
    _dbt(run_dbt, "build", "--select", "tag:store_orders_marts", vars=dates)


def run_week(week_start: date, run_dbt: DbtRunner) -> None:
    """customer_segments_weekly for the week from `week_start` (as of the next Monday), with its clusters."""
    from elt.segmentation import cluster_customers

    as_of = week_start + timedelta(days=7)
    dates = json.dumps({"run_date": week_start.isoformat(), "data_interval_end": as_of.isoformat()})
    _dbt(run_dbt, "build", "--select", "tag:customer_segments", vars=dates)
    cluster_customers(as_of)


def build_demo(
    landing: Path, start: date, days: int, run_dbt: DbtRunner, seed: int = 42, electronics_rows: int | None = None
) -> None:
    """Generate `days` days of every source from `start` into `landing`; build their marts in the warehouse."""
    from elt.generate import generate
    from elt.generate.electronics import file_path, write_electronics_history

    # electronics_rows: the lines of the electronics store's year of history (the first file), not the sample's
    clock = time.monotonic()
    generate("all", landing, start, days, seed=seed)
    if electronics_rows is not None:
        history = file_path(landing, start)
        write_electronics_history(history, start - timedelta(days=365), start, seed=seed, rows=electronics_rows)
    log.info("demo: generated %d day(s) in %.1f s", days, time.monotonic() - clock)
    for offset in range(days):
        clock = time.monotonic()
        run_day(start + timedelta(days=offset), landing, run_dbt)
        log.info("demo: every source's %s in %.1f s", start + timedelta(days=offset), time.monotonic() - clock)
    clock = time.monotonic()
    run_week(start, run_dbt)
    log.info("demo: customer segments of the week %s in %.1f s", start, time.monotonic() - clock)
