"""Customer segments, weekly (Mondays): check theLook is loaded up to T, build marts.customer_segments, cluster."""

from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from elt import assets, config, tasks
from elt.dag_docs import RUNS_DOC
from elt.dbt import dbt_task_group

PARAMS = {
    "freshness": Param(
        "warn",
        enum=["warn", "block"],
        description="Missing theLook partitions in the week: 'warn' logs them and builds; 'block' fails the run.",
    ),
    "clusters": Param(
        None,
        type=["null", "integer"],
        minimum=2,
        description="k for k-means; empty chooses k by silhouette score.",
    ),
}

with DAG(
    dag_id="customer_segments_weekly",
    # the run for a week is as of its data_interval_end (Monday 00:00 UTC), called T in the mart
    schedule=CronDataIntervalTimetable("0 0 * * 1", timezone="UTC"),
    start_date=config.history_start(),
    catchup=False,
    max_active_runs=1,
    default_args=tasks.DEFAULT_ARGS,
    params=PARAMS,
    tags=["thelook", "weekly", "marts"],
    doc_md=__doc__ + RUNS_DOC,
):
    # Lineage, not a trigger: the week's raw theLook tables are inlets (the run keeps its Monday cron and checks
    # their freshness itself), the marts it builds are outlets (elt.assets)
    thelook = assets.raw_assets("thelook")
    checked = tasks.check_freshness.override(task_id="check_freshness", inlets=thelook)("thelook")
    mart = dbt_task_group("mart", select=["tag:customer_segments"], inlets=thelook)
    clusters = assets.mart_assets(["customer_clusters", "customer_cluster_profiles"])
    clustered = tasks.cluster_customers.override(
        task_id="cluster_customers", inlets=assets.mart_assets(["customer_segments"]), outlets=clusters
    )()
    checked >> mart >> clustered
