"""Merchant app subscriptions, daily: load the day's snapshot files, validate them with GX, build the as-of marts."""

from airflow.sdk import DAG, CronDataIntervalTimetable

from elt import assets, config, tasks
from elt.dag_docs import RUNS_DOC
from elt.dbt import dbt_task_group

with DAG(
    dag_id="subscriptions_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=config.history_start(),
    catchup=False,
    max_active_runs=1,
    default_args=tasks.DEFAULT_ARGS,
    tags=["subscriptions", "daily"],
    doc_md=__doc__ + RUNS_DOC,
):
    loaded = tasks.load.override(task_id="load")("subscriptions")
    validated = tasks.validate.override(task_id="validate", outlets=assets.raw_assets("subscriptions"))("subscriptions")
    transformed = dbt_task_group("transform", select=["tag:subscriptions"])
    loaded >> validated >> transformed
