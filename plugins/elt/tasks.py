"""Airflow tasks shared by the source DAGs: load a partition, validate it. The run's interval drives both."""

from __future__ import annotations

from datetime import date

from airflow.sdk import BaseHook, get_current_context, task

from elt.warehouse import ServerParams

WAREHOUSE_CONN_ID = "warehouse"


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
