"""theLook, daily: load the day's exports, validate them with GX, build the staging and intermediate models."""

from datetime import UTC, datetime

from airflow.sdk import DAG, CronDataIntervalTimetable

from elt import tasks
from elt.dbt import dbt_task_group

with DAG(
    dag_id="thelook_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=tasks.DEFAULT_ARGS,
    tags=["thelook", "daily"],
    doc_md=__doc__,
):
    loaded = tasks.load.override(task_id="load")("thelook")
    validated = tasks.validate.override(task_id="validate")("thelook")
    transformed = dbt_task_group("transform", select=["tag:thelook"])
    loaded >> validated >> transformed
