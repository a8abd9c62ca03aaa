"""The environment Airflow runs with: home, metadata database, the `warehouse` connection, quiet telemetry."""

from __future__ import annotations

import ipaddress
import os

from elt import config, lineage, warehouse


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def airflow_environment() -> dict[str, str]:
    """Variables for Airflow processes; values already set in the environment or `.env` win."""
    params = warehouse.warehouse_params()
    defaults = {
        "AIRFLOW_HOME": str(config.airflow_home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.DAGS_DIR),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(config.PROJECT_DIR / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # the LocalExecutor, its task processes forked with Cosmos, dbt and GX already imported (elt.executor)
        "AIRFLOW__CORE__EXECUTOR": "elt.executor.PreloadedLocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": params.database(warehouse.AIRFLOW_DB).sqlalchemy_url(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": "8080",
        # backfills made in the UI or by `elt backfill` must not wait forever on a DAG paused at creation
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # the scheduler's nap when a loop found nothing to do (Airflow's default 1 s): a task's downstream task is
        # queued up to two naps after it ends. At 0.2 s a 1M-row vouchers_daily run under `elt airflow` spent
        # 2.1-2.4 s between its tasks instead of 4.3-5.2 s; an idle scheduler uses 12% of a core instead of 6%
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
        "AIRFLOW_CONN_WAREHOUSE": params.airflow_conn_uri(),
        # what the tasks connect as (elt.tasks): login roles with only what each needs
        "AIRFLOW_CONN_WAREHOUSE_LOADER": warehouse.role_params(warehouse.LOADER, params).airflow_conn_uri(),
        "AIRFLOW_CONN_WAREHOUSE_TRANSFORMER": warehouse.role_params(warehouse.TRANSFORMER, params).airflow_conn_uri(),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos's dbt caches (partial parse, profiles) per checkout, not one /tmp/cosmos for every project
        "AIRFLOW__COSMOS__CACHE_DIR": str(config.state_dir() / "cosmos"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        # lineage through the OpenLineage provider (elt.lineage): a file under the state folder unless .env says
        **lineage.airflow_settings(),
    }
    env = {key: config.setting(key, value) or value for key, value in defaults.items()}
    if not is_loopback(env["AIRFLOW__API__HOST"]):
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "False"  # no login-free UI beyond this machine
    # tasks report to the api-server's execution API: the port the UI listens on, on this machine
    port = env["AIRFLOW__API__PORT"]
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = config.setting(
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://127.0.0.1:{port}/execution/"
    )
    return env


def apply() -> dict[str, str]:
    """Put the Airflow environment into this process (before Airflow is imported)."""
    env = airflow_environment()
    lineage.prepare(env)
    os.environ.update(env)
    return env
