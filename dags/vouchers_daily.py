"""Vouchers, daily: load the day's voucher files, validate them with GX, build the voucher marts with dbt."""

from airflow.sdk import DAG, CronDataIntervalTimetable

from elt import assets, config, tasks
from elt.dag_docs import RUNS_DOC
from elt.dbt import dbt_task_group

with DAG(
    dag_id="vouchers_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=config.history_start(),
    catchup=False,
    max_active_runs=1,
    default_args=tasks.DEFAULT_ARGS,
    tags=["vouchers", "daily"],
    doc_md=__doc__ + RUNS_DOC,
):
    loaded = tasks.load.override(task_id="load")("vouchers")
    validated = tasks.validate.override(task_id="validate", outlets=assets.raw_assets("vouchers"))("vouchers")
    transformed = dbt_task_group("transform", select=["tag:vouchers"])
    loaded >> validated >> transformed
