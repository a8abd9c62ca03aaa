"""Airflow tasks shared by the source DAGs: load a partition, validate it. The run's interval drives both."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from airflow.sdk import BaseHook, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from elt.warehouse import ServerParams

WAREHOUSE_CONN_ID = "warehouse"
# every DAG's default_args: the team owns them, and a task is retried twice before the run fails
DEFAULT_ARGS = {"owner": "data-platform", "retries": 2, "retry_delay": timedelta(minutes=5)}

log = logging.getLogger(__name__)


def warehouse_from_connection(conn_id: str = WAREHOUSE_CONN_ID) -> ServerParams:
    """The warehouse as configured in the Airflow connection."""
    conn = BaseHook.get_connection(conn_id)
    return ServerParams(
        host=conn.host or "localhost",
        port=int(conn.port or 5432),
        user=conn.login or "postgres",
        password=conn.password or "",
        dbname=conn.schema or "warehouse",
    )


def partition_date() -> date:
    """The partition of the running task: the date of its data interval's start."""
    return get_current_context()["data_interval_start"].date()


@task
def load(source: str) -> dict[str, int]:
    """Load the partition's landed files into `raw_<source>`; rows loaded per table."""
    from elt.load import load_partition

    loads = load_partition(source, partition_date(), params=warehouse_from_connection())
    return {result.table: result.rows for result in loads}


@task
def validate(source: str) -> dict[str, dict[str, int]]:
    """Run the source's GX suites on the partition and record every failing row."""
    from elt.quality import validate_partition

    results = validate_partition(source, partition_date(), params=warehouse_from_connection())
    return {r.table: {"rows": r.rows_checked, "error_rows": r.error_rows, "warn_rows": r.warn_rows} for r in results}


@task
def check_freshness(source: str) -> list[str]:
    """Say which of the interval's partitions of `source` are not loaded; fail when params.freshness is 'block'."""
    from elt.freshness import describe_missing, missing_partitions

    context = get_current_context()
    start, end = context["data_interval_start"].date(), context["data_interval_end"].date()
    missing = missing_partitions(source, start, end, params=warehouse_from_connection())
    if missing:
        message = describe_missing(source, end, missing)
        if context["params"]["freshness"] == "block":
            raise AirflowFailException(message)
        log.warning("%s Building anyway (params.freshness = 'warn').", message)
    else:
        log.info("%s is loaded for every partition from %s to %s", source, start, end)
    return [day.isoformat() for day in missing]


@task
def cluster_customers() -> dict[str, object]:
    """Cluster the week's customers (as of data_interval_end) into marts.customer_clusters and its profiles."""
    from elt.segmentation import cluster_customers as run_clustering

    context = get_current_context()
    result = run_clustering(
        context["data_interval_end"].date(), params=warehouse_from_connection(), k=context["params"]["clusters"]
    )
    return {"customers": result.customers, "k": result.k, "silhouette": result.silhouette}
