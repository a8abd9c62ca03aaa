"""Electronics store, daily: load the day's purchase files, validate them with GX, build the sales marts with dbt."""

from airflow.sdk import DAG, CronDataIntervalTimetable

from elt import assets, config, tasks
from elt.dag_docs import RUNS_DOC
from elt.dbt import dbt_task_group

with DAG(
    dag_id="electronics_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=config.history_start(),
    catchup=False,
    max_active_runs=1,
    default_args=tasks.DEFAULT_ARGS,
    tags=["electronics", "daily"],
    doc_md=__doc__ + RUNS_DOC,
):
    loaded = tasks.load.override(task_id="load")("electronics")
    validated = tasks.validate.override(task_id="validate", outlets=assets.raw_assets("electronics"))("electronics")
    transformed = dbt_task_group("transform", select=["tag:electronics"])
    loaded >> validated >> transformed
