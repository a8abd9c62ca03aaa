"""Airflow tasks shared by the source DAGs: load a partition, validate it. The run's interval drives both.

Failures: a load or validation error that a retry can cure (lock timeout, deadlock, lost connection:
`transient`) is raised as is, and Airflow retries the task (DEFAULT_ARGS); any other (a bad file, a
missing column or suite, an error share over the threshold) fails the task at once with
AirflowFailException and the same message: retrying would only repeat it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import NoReturn

from airflow.sdk import BaseHook, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from elt import config, connection
from elt.notifier import QUALITY, EltAlertNotifier
from elt.warehouse import ServerParams

# Each task connects as the login role that holds only what it needs (elt.warehouse): loading and
# validating as elt_loader, dbt, freshness and clustering as elt_transformer.
LOADER_CONN_ID = "warehouse_loader"
TRANSFORMER_CONN_ID = "warehouse_transformer"
RETRY_DELAY_DEFAULT = "30"


def retry_delay() -> timedelta:
    """How long Airflow waits before retrying a task that failed transiently (ELT_RETRY_DELAY_SECONDS)."""
    text = config.setting("ELT_RETRY_DELAY_SECONDS", RETRY_DELAY_DEFAULT) or RETRY_DELAY_DEFAULT
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"ELT_RETRY_DELAY_SECONDS is not a number of seconds: {text!r}") from None
    if seconds < 0:
        raise ValueError(f"ELT_RETRY_DELAY_SECONDS must be >= 0, got {text!r}")
    return timedelta(seconds=seconds)


# every DAG's default_args: the team owns them, a task that failed transiently is retried twice, and a task that
# failed for good sends an alert with its partition's data-quality summary (elt.alerts)
DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": retry_delay(),
    "on_failure_callback": EltAlertNotifier(),
}

log = logging.getLogger(__name__)


def warehouse_from_connection(conn_id: str) -> ServerParams:
    """The warehouse as configured in the Airflow connection, with its options (extras)."""
    return connection.from_airflow_connection(BaseHook.get_connection(conn_id))


def run_interval() -> tuple[datetime, datetime]:
    """The running task's data interval, checked to be the one its logical date names.

    One partition, one logical date: a run's logical date is its data interval's start. A run whose
    logical date is something else (the UI's Trigger button maps a logical date to the interval that
    ENDS there) or that has none would load a partition under another partition's name: it fails at once."""
    context = get_current_context()
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    logical = context.get("logical_date")
    if logical is not None and start is not None and end is not None and logical == start:
        return start, end
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or "DAG_ID"
    day = start.date().isoformat() if start is not None else "YYYY-MM-DD"
    if logical is None:
        problem = "This run has no logical date, so it names no partition"
    else:
        interval = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}" if start and end else "none"
        problem = (
            f"This run's logical date {logical:%Y-%m-%d %H:%M} is not its partition: its data interval is {interval}"
            " (UTC). It was probably started with the UI's Trigger button, which Airflow maps to the interval"
            " ENDING at the logical date"
        )
    raise AirflowFailException(
        f"{problem}. Nothing was loaded or built. Run one partition with a Backfill whose start and end are the"
        f" partition date (UI: Backfill, from {day} to {day}), or `elt run {dag_id} --date {day}`."
    )


def partition_date() -> date:
    """The partition of the running task: the date of its data interval's start (see run_interval)."""
    return run_interval()[0].date()


def _raise_for(error: Exception) -> NoReturn:
    """Re-raise a transient error for Airflow to retry; fail the task at once (no retry) for any other."""
    if getattr(error, "transient", False):
        log.warning("Transient failure; Airflow retries the task (after ELT_RETRY_DELAY_SECONDS): %s", error)
        raise error
    raise AirflowFailException(str(error)) from error


@task
def load(source: str) -> dict[str, int]:
    """Load the partition's landed files into `raw_<source>`; rows loaded per table."""
    from elt.load import LoadError, load_partition

    day = partition_date()
    try:
        loads = load_partition(source, day, params=warehouse_from_connection(LOADER_CONN_ID))
    except LoadError as error:
        _raise_for(error)
    return {result.table: result.rows for result in loads}


@task(on_success_callback=EltAlertNotifier(QUALITY))
def validate(source: str) -> dict[str, dict[str, int]]:
    """Run the source's GX suites on the partition and record every failing row."""
    from elt.quality import QualityError, validate_partition

    day = partition_date()
    try:
        results = validate_partition(source, day, params=warehouse_from_connection(LOADER_CONN_ID))
    except QualityError as error:
        _raise_for(error)
    counts = {r.table: {"rows": r.rows_checked, "error_rows": r.error_rows, "warn_rows": r.warn_rows} for r in results}
    _record_asset_events(source, day, counts)
    return counts


def _record_asset_events(source: str, day: date, counts: dict[str, dict[str, int]]) -> None:
    """Tag the asset event of each raw table this task declares as its outlet with the partition it validated."""
    from elt.assets import raw_assets

    context = get_current_context()
    task, events = context.get("task"), context.get("outlet_events")
    if task is None or events is None:  # called outside a task run
        return
    declared = {outlet.name for outlet in task.outlets}
    for asset in raw_assets(source):
        if asset.name in declared:
            table = asset.name.split(".", 1)[1]
            events[asset].extra = {"partition_date": day.isoformat(), **counts.get(table, {})}


@task
def check_freshness(source: str) -> list[str]:
    """Say which of the interval's partitions of `source` are not fresh (every table loaded, or allowed no file,
    and validated); fail when params.freshness is 'block'."""
    from elt.freshness import describe_missing, partition_problems

    context = get_current_context()
    interval_start, interval_end = run_interval()
    start, end = interval_start.date(), interval_end.date()
    missing = partition_problems(source, start, end, params=warehouse_from_connection(TRANSFORMER_CONN_ID))
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
    _start, end = run_interval()
    params = warehouse_from_connection(TRANSFORMER_CONN_ID)
    result = run_clustering(end.date(), params=params, k=context["params"]["clusters"])
    return {"customers": result.customers, "k": result.k, "silhouette": result.silhouette}


@task
def record_fx_rates() -> dict[str, str]:
    """Keep the day's CNY rates of the currencies store_orders' orders use (elt.store_orders); CNY per unit."""
    from elt.fx import FxRateError
    from elt.store_orders import record_fx_rates as record

    try:
        rates = record(partition_date(), params=warehouse_from_connection(LOADER_CONN_ID))
    except FxRateError as error:
        _raise_for(error)
    return {rate.currency: str(rate.cny_per_unit) for rate in rates}


@task
def tier_cities() -> dict[str, object]:
    """Put the day's cities in sales tiers by revenue (elt.tiers), for the store_orders marts."""
    from elt.tiers import tier_cities as run_tiering

    result = run_tiering(partition_date(), params=warehouse_from_connection(TRANSFORMER_CONN_ID))
    return {"cities": result.cities, "tiers": {str(tier): size for tier, size in result.sizes.items()}}
