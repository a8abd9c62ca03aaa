"""Every client of the warehouse gets the options of its URL and runs in UTC, on a database whose own default
time zone is America/New_York: psycopg (loader, validator's exceptions, segmentation), GX's and Airflow's
SQLAlchemy engines, the Airflow connection (tasks, Airflow's PostgresHook), dbt through Cosmos, and psql."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import sqlalchemy

from elt import airflow_env, warehouse
from elt.config import DBT_PROJECT_DIR, PROJECT_DIR
from elt.connection import ServerParams

APP = "elt-options-test"
SETTINGS_SQL = (
    "select current_setting('TimeZone') as tz, current_setting('application_name') as app,"
    " current_setting('statement_timeout') as timeout"
)
EXPECTED = ("UTC", APP, "4321ms")


@pytest.fixture
def new_york_warehouse(warehouse_params: ServerParams, monkeypatch: pytest.MonkeyPatch) -> ServerParams:
    """The test's warehouse with America/New_York as its default zone, configured by a URL with options."""
    with warehouse.connect(warehouse_params.database("postgres"), autocommit=True) as conn:
        conn.execute(f"alter database \"{warehouse_params.dbname}\" set timezone = 'America/New_York'")
    params = ServerParams(
        warehouse_params.host,
        warehouse_params.port,
        warehouse_params.user,
        warehouse_params.password,
        warehouse_params.dbname,
        {"sslmode": "disable", "application_name": APP, "options": "-c statement_timeout=4321"},
    )
    monkeypatch.setenv("ELT_WAREHOUSE_URL", params.libpq_url())
    for name in ("AIRFLOW_CONN_WAREHOUSE", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        monkeypatch.delenv(name, raising=False)
    return params


def test_the_database_default_is_new_york(new_york_warehouse: ServerParams) -> None:
    """Without the options, a session gets the database's zone: what the other tests overcome."""
    p = new_york_warehouse
    with psycopg.connect(host=p.host, port=p.port, user=p.user, dbname=p.dbname) as conn:
        assert conn.execute("show timezone").fetchone()[0] == "America/New_York"


def test_psycopg_clients(new_york_warehouse: ServerParams) -> None:
    from elt.load import connect_loader

    with warehouse.connect() as conn:
        assert conn.execute(SETTINGS_SQL).fetchone() == EXPECTED
        assert conn.info.get_parameters()["sslmode"] == "disable"
    with connect_loader(None, "elt load test") as conn:  # the loader names itself after what it loads
        assert conn.execute(SETTINGS_SQL).fetchone() == ("UTC", "elt load test", "4321ms")


def test_sqlalchemy_clients(new_york_warehouse: ServerParams) -> None:
    """GX's datasource URL, and Airflow's metadata URL (pointed at the test's database)."""
    metadata_url = sqlalchemy.engine.make_url(airflow_env.airflow_environment()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    for url in (new_york_warehouse.sqlalchemy_url(), metadata_url.set(database=new_york_warehouse.dbname)):
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as conn:
                assert tuple(conn.execute(sqlalchemy.text(SETTINGS_SQL)).one()) == EXPECTED
                assert conn.connection.dbapi_connection.get_dsn_parameters()["sslmode"] == "disable"
        finally:
            engine.dispose()


def test_airflow_connection_clients(new_york_warehouse: ServerParams, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `warehouse` connection `elt` gives Airflow: the tasks' settings, and Airflow's own PostgresHook."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from elt.tasks import warehouse_from_connection

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", airflow_env.airflow_environment()["AIRFLOW_CONN_WAREHOUSE"])
    assert warehouse_from_connection("warehouse") == new_york_warehouse
    with warehouse.connect(warehouse_from_connection("warehouse")) as conn:
        assert conn.execute(SETTINGS_SQL).fetchone() == EXPECTED
    hook_conn = PostgresHook(postgres_conn_id="warehouse").get_conn()
    try:
        assert tuple(hook_conn.execute(SETTINGS_SQL).fetchone()) == EXPECTED
    finally:
        hook_conn.close()


def test_dbt_through_cosmos(new_york_warehouse: ServerParams, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The profile and environment Cosmos builds from the `warehouse_transformer` connection, given to dbt."""
    from elt.dbt import PROFILE

    variable = "AIRFLOW_CONN_WAREHOUSE_TRANSFORMER"
    monkeypatch.setenv(variable, airflow_env.airflow_environment()[variable])
    mapping = PROFILE.profile_mapping
    assert mapping.profile["sslmode"] == "disable" and mapping.profile["application_name"] == APP
    (tmp_path / "profiles.yml").write_text(mapping.get_profile_file_contents(PROFILE.profile_name, PROFILE.target_name))
    env = {
        **os.environ,
        **mapping.env_vars,
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "show", "--inline", SETTINGS_SQL, "--output", "json", "--quiet"]
        + ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(tmp_path), "--target", PROFILE.target_name],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-3000:]
    rows = json.loads(shown.stdout[shown.stdout.index("{") :])["show"]
    assert (rows[0]["tz"], rows[0]["app"], rows[0]["timeout"]) == EXPECTED


def test_psql_from_elt(new_york_warehouse: ServerParams) -> None:
    for command in (["db", "psql", "-Atc", SETTINGS_SQL], ["db", "url"]):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "elt"), *command], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        if command[1] == "psql":
            assert done.stdout.strip() == "|".join(EXPECTED)
        else:  # psql "$(elt db url)" gets the same
            assert done.stdout.strip() == new_york_warehouse.libpq_url()
