"""Store orders, daily: load both feeds, seed the China reference, validate, keep the FX rates, build the marts."""

from airflow.sdk import DAG, CronDataIntervalTimetable

from elt import assets, config, tasks
from elt.dag_docs import RUNS_DOC
from elt.dbt import dbt_build_task, dbt_task_group

with DAG(
    dag_id="store_orders_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=config.history_start(),
    catchup=False,
    max_active_runs=1,
    default_args=tasks.DEFAULT_ARGS,
    tags=["store_orders", "daily"],
    doc_md=__doc__ + RUNS_DOC,
):
    loaded = tasks.load.override(task_id="load")("store_orders")
    # the validation's location rules read the reference seeds (one build: their tests read each other)
    reference = dbt_build_task("reference", select=["tag:store_orders_reference"])
    validated = tasks.validate.override(task_id="validate", outlets=assets.raw_assets("store_orders"))("store_orders")
    rates = tasks.record_fx_rates.override(task_id="record_fx_rates")()
    transformed = dbt_task_group("transform", select=["tag:store_orders"], exclude=["tag:store_orders_marts"])
    tiered = tasks.tier_cities.override(task_id="tier_cities")()
    marts = dbt_task_group("marts", select=["tag:store_orders_marts"])
    [loaded, reference] >> validated >> rates >> transformed >> tiered >> marts
