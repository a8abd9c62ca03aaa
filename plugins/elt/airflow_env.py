"""The environment Airflow runs with: home, metadata database, the `warehouse` connection, quiet telemetry."""

from __future__ import annotations

import os

from elt import config, warehouse


def airflow_environment() -> dict[str, str]:
    """Variables for Airflow processes; values already set in the environment or `.env` win."""
    params = warehouse.warehouse_params()
    defaults = {
        "AIRFLOW_HOME": str(config.airflow_home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.DAGS_DIR),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(config.PROJECT_DIR / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": params.database(warehouse.AIRFLOW_DB).sqlalchemy_url(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__PORT": "8080",
        "AIRFLOW_CONN_WAREHOUSE": params.airflow_conn_uri(),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    return {key: config.setting(key, value) or value for key, value in defaults.items()}


def apply() -> dict[str, str]:
    """Put the Airflow environment into this process (before Airflow is imported)."""
    env = airflow_environment()
    os.environ.update(env)
    return env
