"""Warehouse bootstrap: idempotent, with least-privilege roles."""

from __future__ import annotations

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
    with warehouse.connect(params) as conn:
        conn.execute("create table if not exists marts.example (x int)")
        conn.commit()
        conn.execute(f"set role {role}")
        try:
            conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            return False
        finally:
            conn.rollback()
        return True


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
        ("elt_analyst", "delete from audit.load_log", False),
        ("elt_analyst", "create table marts.mine (x int)", False),
        (
            "elt_loader",
            "insert into audit.load_log (batch_id, source, table_name, partition_date, started_at, status)"
            " values (1, 's', 't', '2024-01-01', now(), 'no_files')",
            True,
        ),
        ("elt_loader", "select * from marts.example", False),
        ("elt_transformer", "select * from raw_vouchers.voucher_assignments", True),
        ("elt_transformer", "create table marts.mine (x int)", True),
        ("elt_transformer", "delete from audit.dq_exceptions", False),
    ],
)
def test_roles_have_least_privilege(warehouse_params: ServerParams, role: str, statement: str, allowed: bool) -> None:
    assert _can(warehouse_params, role, statement) is allowed


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
