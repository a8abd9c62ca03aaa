"""The dashboard's database role (elt_analyst, in a read-only session) cannot read raw data nor write marts, on a real
Postgres; `elt dashboard` hands the dashboard that role, never the owner, and no secret on its command line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import streamlit as st

from elt import warehouse
from elt.cli import dashboard_command
from elt.connection import from_libpq
from elt.serve import data
from elt.warehouse import ServerParams

WRITES = (
    "insert into marts.customer_clusters values ('2024-01-01', 1, 1)",
    "create table marts.dashboard_scratch (x int)",
)


@pytest.fixture
def dashboard_conn(warehouse_params: ServerParams) -> Iterator[psycopg.Connection]:
    """The connection the dashboard's queries use, against the test's warehouse."""
    st.cache_resource.clear()
    yield data.connection()
    st.cache_resource.clear()


def test_the_dashboard_connects_as_the_analyst_read_only(dashboard_conn: psycopg.Connection) -> None:
    user, read_only = dashboard_conn.execute(
        "select current_user, current_setting('default_transaction_read_only')"
    ).fetchone()
    assert (user, read_only) == ("elt_analyst", "on")
    assert dashboard_conn.execute("select count(*) from audit.dq_runs").fetchone() == (0,)


def test_the_dashboard_cannot_read_raw_data(dashboard_conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="raw_thelook"):
        dashboard_conn.execute("select * from raw_thelook.users")


@pytest.mark.parametrize("statement", WRITES)
def test_the_dashboard_cannot_write_marts(dashboard_conn: psycopg.Connection, statement: str) -> None:
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        dashboard_conn.execute(statement)


@pytest.mark.parametrize("statement", WRITES)
def test_the_role_cannot_write_marts_even_out_of_read_only(warehouse_params: ServerParams, statement: str) -> None:
    analyst = warehouse.role_params(warehouse.ANALYST, warehouse_params)
    with psycopg.connect(analyst.conninfo(), autocommit=True) as conn:
        conn.execute("set default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw_thelook.users")


def test_elt_dashboard_gets_the_analyst_role_through_its_environment(
    warehouse_params: ServerParams, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELT_ANALYST_PASSWORD", "analyst-secret")
    monkeypatch.setenv("ELT_LOADER_PASSWORD", "loader-secret")
    command, env = dashboard_command("127.0.0.1", 8501)
    assert "--browser.gatherUsageStats=false" in command and "--server.headless=true" in command
    assert not [arg for arg in command if "secret" in arg or "postgres" in arg]
    params = from_libpq(env["ELT_WAREHOUSE_URL"])
    assert (params.user, params.password, params.dbname) == ("elt_analyst", "", warehouse_params.dbname)
    assert env["ELT_ANALYST_PASSWORD"] == "analyst-secret"
    assert "ELT_LOADER_PASSWORD" not in env and "AIRFLOW_CONN_WAREHOUSE" not in env


def test_the_queries_name_marts_and_audit_only() -> None:
    sql = " ".join(re.findall(r'"([^"]*)"', Path(data.__file__).read_text()))  # the string literals
    assert set(re.findall(r"\b(?:from|join)\s+([a-z_]+)\.[a-z_]+", sql)) == {"marts", "audit"}
    assert set(re.findall(r"\b([a-z_]+)\.[a-z_]+\(", sql)) == {"marts"}  # functions: most_used_voucher, …


def test_a_restarted_server_costs_no_error(dashboard_conn: psycopg.Connection, warehouse_params: ServerParams) -> None:
    with psycopg.connect(warehouse_params.conninfo(), autocommit=True) as admin:
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where usename = 'elt_analyst'"
            " and datname = current_database()"
        )
    assert data.scalar("select count(*) from audit.dq_runs") == 0
    assert data.connection() is not dashboard_conn
