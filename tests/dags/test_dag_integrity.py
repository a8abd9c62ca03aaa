"""DAG integrity: every DAG imports with no database reachable, nothing heavy imported, the project's conventions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from elt import config
from elt.sources import SOURCES

PROBE = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import CronDataIntervalTimetable
before = set(sys.modules)  # what the dag-processor pays per parse: Airflow itself is already imported there
bag = DagBag(dag_folder=DAGS)
print(json.dumps({
    "imported": sorted({name.split(".")[0] for name in set(sys.modules) - before}),
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": {
        dag_id: {
            "owners": sorted({t.owner for t in dag.tasks}),
            "tags": sorted(dag.tags),
            "retries": sorted({t.retries for t in dag.tasks}),
            "timetable": type(dag.timetable).__name__,
            "explicit_cron_interval": isinstance(dag.timetable, CronDataIntervalTimetable),
            "tasks": len(dag.tasks),
            "max_active_runs": dag.max_active_runs,
            "catchup": dag.catchup,
            "outlets": {t.task_id: sorted(a.name for a in t.outlets) for t in dag.tasks if t.outlets},
            "inlets": {t.task_id: sorted(a.name for a in t.inlets) for t in dag.tasks if t.inlets},
            "schedule_assets": sorted(str(a) for a in getattr(dag.timetable.asset_condition, "iter_assets", list)()),
        }
        for dag_id, dag in bag.dags.items()
    },
}))
"""

UNREACHABLE = "postgresql+psycopg2://nobody:nothing@127.0.0.1:9/nowhere"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow_home")),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": UNREACHABLE,
        "AIRFLOW_CONN_WAREHOUSE": "postgres://nobody:nothing@127.0.0.1:9/nowhere",
        "ELT_WAREHOUSE_URL": "postgresql://nobody:nothing@127.0.0.1:9/nowhere",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    code = f"DAGS = {str(config.DAGS_DIR)!r}\n{PROBE}"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_dag_imports_without_errors(dagbag: dict) -> None:
    assert dagbag["errors"] == {}
    declared = {dag_id for source in SOURCES.values() for dag_id in source.dag_ids}
    assert declared == {
        "vouchers_daily", "thelook_daily", "customer_segments_weekly", "electronics_daily", "store_orders_daily",
        "subscriptions_daily",
    }  # fmt: skip
    assert declared == set(dagbag["dags"])


# What a task needs, never a parse: the dag-processor parses every file every 30 s.
HEAVY = {"pandas", "numpy", "pyarrow", "great_expectations", "dbt", "sklearn", "scipy", "ijson", "pypinyin",
         "jenkspy", "currency_converter", "sqlalchemy_utils"}  # fmt: skip


def test_parsing_dags_imports_nothing_heavy(dagbag: dict) -> None:
    assert HEAVY.isdisjoint(dagbag["imported"]), sorted(HEAVY & set(dagbag["imported"]))


def test_dag_conventions(dagbag: dict) -> None:
    for dag_id, dag in dagbag["dags"].items():
        assert dag["owners"] == ["data-platform"], dag_id
        assert dag["tags"], f"{dag_id} has no tags"
        assert min(dag["retries"]) >= 1, f"{dag_id} has a task without retries"
        assert dag["explicit_cron_interval"], f"{dag_id} uses {dag['timetable']}, not CronDataIntervalTimetable"
        assert dag["max_active_runs"] == 1, f"{dag_id} may run the same partition concurrently"


def test_dag_files_read_no_wall_clock() -> None:
    for path in config.DAGS_DIR.glob("*.py"):
        text = path.read_text()
        for forbidden in ("datetime.now", "utcnow", "date.today", "now()", "time.time("):
            assert forbidden not in text, f"{path.name} reads the wall clock ({forbidden})"


def test_dags_declare_their_assets(dagbag: dict) -> None:
    """Each source DAG's validate task produces its raw tables; each mart has one producing task; the weekly
    segments DAG reads theLook's raw tables as inlets and stays on its cron (no asset schedule)."""
    producers: dict[str, list[str]] = {}
    for dag_id, dag in dagbag["dags"].items():
        for task_id, names in dag["outlets"].items():
            for name in names:
                producers.setdefault(name, []).append(f"{dag_id}.{task_id}")
    for source in SOURCES.values():
        for table in source.tables:
            assert producers.get(f"{source.schema}.{table.name}") == [f"{source.dag_ids[0]}.validate"], table.name
    marts = {name: tasks for name, tasks in producers.items() if name.startswith("marts.")}
    assert all(len(tasks) == 1 for tasks in marts.values()), marts
    assert marts["marts.voucher_most_used"] == ["vouchers_daily.transform.voucher_most_used_model_build"]
    assert marts["marts.customer_segments"] == ["customer_segments_weekly.mart.customer_segments_model_build"]
    assert marts["marts.customer_clusters"] == ["customer_segments_weekly.cluster_customers"]
    assert {"marts.electronics_kpis", "marts.store_sales_hourly", "marts.store_activity_daily"} <= set(marts)
    weekly = dagbag["dags"]["customer_segments_weekly"]
    raw_thelook = sorted(f"raw_thelook.{table.name}" for table in SOURCES["thelook"].tables)
    assert weekly["inlets"]["check_freshness"] == raw_thelook
    assert weekly["inlets"]["mart.customer_segments_model_build"] == raw_thelook
    assert weekly["schedule_assets"] == [], "the weekly run keeps its cron; assets are lineage, not a trigger"
