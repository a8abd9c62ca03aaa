"""Warehouse bootstrap: idempotent, with least-privilege roles."""

from __future__ import annotations

import uuid
from dataclasses import replace

import psycopg
import pytest

from elt import warehouse
from elt.warehouse import ServerParams


def test_bootstrap_twice_is_the_same_as_once(warehouse_params: ServerParams) -> None:
    warehouse.bootstrap(warehouse_params)
    with warehouse.connect(warehouse_params) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace").fetchall()}
        tables = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'audit'"
            ).fetchall()
        }
    assert {"raw_vouchers", "audit", "staging", "intermediate", "marts"} <= schemas
    assert {"load_log", "dq_runs", "dq_exceptions"} <= tables


def _can(params: ServerParams, role: str, statement: str) -> bool:
    """Whether the login role `role` may run `statement` (rolled back either way)."""
    with warehouse.connect(warehouse.role_params(warehouse.TRANSFORMER, params)) as conn:
        conn.execute("create table if not exists marts.example (x int)")  # as dbt makes them
        conn.commit()
    with warehouse.connect(warehouse.role_params(role, params)) as conn:
        try:
            conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            return False
        finally:
            conn.rollback()
        return True


NEW_DQ_RUN = (
    "insert into audit.dq_runs (source, table_name, partition_date, suite, rows_checked, error_rows, warn_rows,"
    " success, started_at, finished_at) values ('s', 't', '2024-01-01', 's', 0, 0, 0, true, now(), now())"
)


@pytest.mark.parametrize(
    ("role", "statement", "allowed"),
    [
        ("elt_analyst", "select * from marts.example", True),
        ("elt_analyst", "select * from marts.customer_clusters natural join marts.customer_cluster_profiles", True),
        ("elt_analyst", "delete from marts.customer_clusters", False),
        ("elt_transformer", "delete from marts.customer_cluster_profiles", True),
        ("elt_analyst", "select * from audit.dq_exceptions", True),
        ("elt_analyst", "select * from raw_vouchers.voucher_assignments", False),
        ("elt_analyst", "select email from raw_thelook.users", False),
        ("elt_analyst", "select * from staging.stg_vouchers__voucher_assignments", False),
        ("elt_analyst", "delete from audit.load_log", False),
        ("elt_analyst", "create table marts.mine (x int)", False),
        ("elt_analyst", "create table public.mine (x int)", False),
        ("elt_analyst", "create temporary table mine (x int)", False),
        (
            "elt_loader",
            "insert into audit.load_log (batch_id, source, table_name, partition_date, started_at, status)"
            " values (1, 's', 't', '2024-01-01', now(), 'no_files')",
            True,
        ),
        ("elt_loader", "create table raw_vouchers.mine (x int)", True),
        ("elt_loader", "create temporary table mine (x int)", True),
        ("elt_loader", NEW_DQ_RUN, True),
        ("elt_loader", "delete from audit.load_log", False),
        ("elt_loader", "update audit.load_log set error = 'x'", False),
        ("elt_loader", "delete from audit.dq_runs", False),
        ("elt_loader", "create table staging.mine (x int)", False),
        ("elt_loader", "select * from marts.example", False),
        ("elt_transformer", "select * from raw_vouchers.voucher_assignments", True),
        ("elt_transformer", "select * from audit.load_log", True),
        ("elt_transformer", "create table marts.mine (x int)", True),
        ("elt_transformer", "create temporary table mine (x int)", True),
        ("elt_transformer", "create table raw_vouchers.mine (x int)", False),
        ("elt_transformer", "create table public.mine (x int)", False),
        ("elt_transformer", "delete from audit.dq_exceptions", False),
        ("elt_transformer", "delete from audit.load_log", False),
        ("elt_transformer", NEW_DQ_RUN, False),
    ],
)
def test_login_roles_have_least_privilege(
    warehouse_params: ServerParams, role: str, statement: str, allowed: bool
) -> None:
    assert _can(warehouse_params, role, statement) is allowed


def test_an_owner_without_superuser_bootstraps_as_in_docker_compose(pg_server: ServerParams) -> None:
    """docker compose: `elt` owns the warehouse and may create roles, nothing more; bootstrap still hands the
    loader and dbt their schemas and sets the login roles' passwords."""
    admin = pg_server.database("postgres")
    owner = f"owner_{uuid.uuid4().hex[:8]}"
    params = replace(pg_server, user=owner, password="", dbname=f"test_{uuid.uuid4().hex[:12]}")
    with warehouse.connect(admin, autocommit=True) as conn:
        conn.execute(f"create role {owner} login createrole")
        conn.execute(f'create database "{params.dbname}" owner {owner}')
        # the login roles exist on this shared test server already: as if `owner` had created them
        conn.execute(warehouse.ROLE_DDL)
        conn.execute(f"grant elt_loader, elt_transformer, elt_analyst to {owner} with admin option, set false")
    try:
        warehouse.bootstrap(params)
        with warehouse.connect(params) as conn:
            owners = dict(
                conn.execute(
                    "select nspname, pg_get_userbyid(nspowner) from pg_namespace"
                    " where nspname in ('raw_vouchers', 'staging', 'marts', 'audit')"
                ).fetchall()
            )
        assert owners == {
            "raw_vouchers": "elt_loader",
            "staging": "elt_transformer",
            "marts": "elt_transformer",
            "audit": owner,
        }
        assert _can(params, "elt_loader", "create table raw_vouchers.mine (x int)")
    finally:
        with warehouse.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{params.dbname}" with (force)')
            conn.execute(f"drop owned by {owner} cascade")
            conn.execute(f"drop role {owner}")


def _status_check(conn: psycopg.Connection) -> str:
    return conn.execute(
        "select pg_get_constraintdef(oid) from pg_constraint"
        " where conrelid = 'audit.load_log'::regclass and conname = 'load_log_status_check'"
    ).fetchone()[0]


def test_bootstrap_upgrades_an_old_status_check_and_leaves_a_current_one(warehouse_params: ServerParams) -> None:
    with warehouse.connect(warehouse_params) as conn:
        conn.execute("alter table audit.load_log drop constraint load_log_status_check")
        conn.execute(
            "alter table audit.load_log add constraint load_log_status_check"
            " check (status in ('loaded', 'failed', 'no_files'))"
        )
        conn.commit()
    warehouse.bootstrap(warehouse_params)
    with warehouse.connect(warehouse_params) as conn:
        definition = _status_check(conn)
        assert all(f"'{s}'" in definition for s in ("loaded", "failed", "no_files", "skipped", "duplicate"))
        old_oid = conn.execute("select oid from pg_constraint where conname = 'load_log_status_check'").fetchone()[0]
        for status in ("skipped", "duplicate"):
            conn.execute(
                "insert into audit.load_log (batch_id, source, table_name, partition_date, started_at, status)"
                " values (1, 's', 't', '2024-01-01', now(), %s)",
                (status,),
            )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "insert into audit.load_log (batch_id, source, table_name, partition_date, started_at, status)"
                " values (1, 's', 't', '2024-01-01', now(), 'whatever')"
            )
    warehouse.bootstrap(warehouse_params)
    with warehouse.connect(warehouse_params) as conn:
        same = conn.execute("select oid from pg_constraint where conname = 'load_log_status_check'").fetchone()[0]
    assert same == old_oid, "an up-to-date check is left alone (no lock on load_log at every start)"
