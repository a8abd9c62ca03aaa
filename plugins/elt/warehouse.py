"""The warehouse: which server (configured or embedded), connections to it, schemas, audit tables and roles."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from psycopg import sql

from elt import config, connection
from elt.connection import ServerParams
from elt.sources import SOURCES

WAREHOUSE_DB = connection.DEFAULT_DBNAME
AIRFLOW_DB = "airflow"
LAYER_SCHEMAS = ("audit", "staging", "intermediate", "marts")
ROLES = ("elt_loader", "elt_transformer", "elt_analyst")
MIN_SERVER_VERSION = 160000


def embedded_params() -> ServerParams:
    """The project's own server: a Unix socket in the state folder, trust authentication."""
    from elt import localdb

    return ServerParams(host=str(localdb.data_dir()), port=5432, user="postgres", password="elt", dbname=WAREHOUSE_DB)


def configured_params() -> ServerParams | None:
    """The server named by `ELT_WAREHOUSE_URL` or `AIRFLOW_CONN_WAREHOUSE`, if any."""
    if url := config.setting("ELT_WAREHOUSE_URL"):
        return connection.from_libpq(url)
    if conn := config.setting("AIRFLOW_CONN_WAREHOUSE"):
        return connection.from_airflow_value(conn)
    return None


def warehouse_params() -> ServerParams:
    """The warehouse: the configured server, or the embedded one."""
    return configured_params() or embedded_params()


def connect(params: ServerParams | None = None, **kwargs: Any) -> psycopg.Connection:
    """A psycopg 3 connection to the warehouse (or the database of `params`), with every option of its settings
    and in UTC; `kwargs` are psycopg's (`autocommit`) or libpq keywords that override the settings'."""
    return psycopg.connect((params or warehouse_params()).conninfo(), **kwargs)


def create_database(params: ServerParams, dbname: str) -> bool:
    """Create `dbname` on the server of `params` unless it exists; True if created."""
    with connect(params.database("postgres"), autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
            return False
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
        return True


AUDIT_DDL = """
create sequence if not exists audit.batch_id_seq;

create table if not exists audit.load_log (
    batch_id bigint not null,
    source text not null,
    table_name text not null,
    partition_date date not null,
    file_path text,
    file_sha256 text,
    rows_loaded bigint not null default 0,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null,
    error text
);
create index if not exists load_log_partition_idx on audit.load_log (source, table_name, partition_date);
create index if not exists load_log_content_idx on audit.load_log (source, table_name, file_sha256)
    where status = 'loaded';

-- The statuses a load writes. A warehouse made by an older version has a check without the newer statuses:
-- replace it, but only then (dropping and adding it on every start would lock out running loads).
do $$
declare
    statuses text[] := array['loaded', 'failed', 'no_files', 'skipped', 'duplicate'];
    current text := (
        select pg_get_constraintdef(oid) from pg_constraint
        where conrelid = 'audit.load_log'::regclass and conname = 'load_log_status_check'
    );
begin
    if current is null or exists (select from unnest(statuses) s where position(quote_literal(s) in current) = 0)
    then
        alter table audit.load_log drop constraint if exists load_log_status_check;
        execute format('alter table audit.load_log add constraint load_log_status_check check (status in (%s))',
                       (select string_agg(quote_literal(s), ', ') from unnest(statuses) s));
    end if;
end $$;

create table if not exists audit.dq_runs (
    run_id bigint generated always as identity primary key,
    source text not null,
    table_name text not null,
    partition_date date not null,
    batch_id bigint,
    suite text not null,
    rows_checked bigint not null,
    error_rows bigint not null,
    warn_rows bigint not null,
    success boolean not null,
    started_at timestamptz not null,
    finished_at timestamptz not null
);

create table if not exists audit.dq_exceptions (
    run_id bigint not null,
    source text not null,
    table_name text not null,
    partition_date date not null,
    batch_id bigint,
    source_file text not null,
    source_row bigint not null,
    record_key text,
    column_name text not null,
    rule text not null,
    severity text not null check (severity in ('error', 'warn')),
    bad_value text,
    message text not null,
    detected_at timestamptz not null
);
create index if not exists dq_exceptions_partition_idx
    on audit.dq_exceptions (source, table_name, partition_date);
create index if not exists dq_exceptions_quarantine_idx
    on audit.dq_exceptions (source, table_name, source_file, source_row) where severity = 'error';
"""

LOADER, TRANSFORMER, ANALYST = ROLES
# the setting that holds each login role's password (unset: no password, as on the embedded server's socket)
ROLE_PASSWORD_SETTINGS = {
    LOADER: "ELT_LOADER_PASSWORD",
    TRANSFORMER: "ELT_TRANSFORMER_PASSWORD",
    ANALYST: "ELT_ANALYST_PASSWORD",
}

# What each login role may do in `audit`: the loader (and validator) appends to the load log, records and
# finishes validation runs, and replaces the exceptions of the partition it validates; nobody else writes.
AUDIT_PRIVILEGES = {
    LOADER: {
        "load_log": "select, insert",
        "dq_runs": "select, insert, update",
        "dq_exceptions": "select, insert, delete",
    },
    TRANSFORMER: {"load_log": "select", "dq_runs": "select", "dq_exceptions": "select"},
    ANALYST: {"load_log": "select", "dq_runs": "select", "dq_exceptions": "select"},
}

ROLE_DDL = """
do $$
declare r text;
begin
    foreach r in array array['elt_loader', 'elt_transformer', 'elt_analyst'] loop
        begin
            if not exists (select from pg_roles where rolname = r) then
                execute format('create role %I login', r);
            elsif not (select rolcanlogin from pg_roles where rolname = r) then
                execute format('alter role %I login', r);
            end if;
        -- another bootstrap (another database on this server) got there first
        exception when duplicate_object or unique_violation or internal_error then null;
        end;
    end loop;
end $$;
"""


def role_params(role: str, params: ServerParams | None = None) -> ServerParams:
    """The warehouse (or `params`) logged in as the login role `role`, with its password from the settings."""
    password = config.setting(ROLE_PASSWORD_SETTINGS[role]) or ""
    return replace(params or warehouse_params(), user=role, password=password)


def _roles(conn: psycopg.Connection) -> None:
    """The login roles, with their passwords when the settings give them; the bootstrapping user may act as them
    (to hand them their objects)."""
    conn.execute(ROLE_DDL)
    for role, setting in ROLE_PASSWORD_SETTINGS.items():
        if password := config.setting(setting):
            conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(password)))
    if not conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]:
        for role in ROLES:
            if not conn.execute("select pg_has_role(current_user, %s, 'SET')", (role,)).fetchone()[0]:
                conn.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(role)))


def _hand_over(conn: psycopg.Connection, schemas: list[str], owner: str) -> None:
    """`owner` owns `schemas` and every table, view, sequence and function in them (made by whoever)."""
    ident = sql.Identifier
    others = conn.execute(
        "select nspname from pg_namespace where nspname = any(%s) and nspowner <> %s::regrole", (schemas, owner)
    ).fetchall()
    for (schema,) in others:
        conn.execute(sql.SQL("alter schema {} owner to {}").format(ident(schema), ident(owner)))
    relations = conn.execute(
        "select n.nspname, c.relname, case c.relkind when 'S' then 'sequence' when 'v' then 'view'"
        " when 'm' then 'materialized view' else 'table' end"
        " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'S')"
        " and c.relowner <> %s::regrole and not (c.relkind = 'S' and exists"
        "   (select from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')))",
        (schemas, owner),
    ).fetchall()
    for schema, name, kind in relations:
        conn.execute(sql.SQL(f"alter {kind} {{}}.{{}} owner to {{}}").format(ident(schema), ident(name), ident(owner)))
    functions = conn.execute(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname = any(%s) and p.proowner <> %s::regrole",
        (schemas, owner),
    ).fetchall()
    for (signature,) in functions:  # regprocedure text is already quoted where needed
        conn.execute(sql.SQL("alter function {} owner to {}").format(sql.SQL(signature), ident(owner)))


def _grants(conn: psycopg.Connection, raw_schemas: list[str]) -> None:
    """Least privilege: the loader owns the raw schemas and appends audit evidence; dbt (the transformer) owns
    staging, intermediate and marts and reads raw and audit; the analyst reads marts and audit, nothing raw."""
    ident = sql.Identifier

    def run(template: str, *names: str) -> None:
        conn.execute(sql.SQL(template).format(*map(ident, names)))

    _hand_over(conn, raw_schemas, LOADER)
    _hand_over(conn, ["staging", "intermediate", "marts"], TRANSFORMER)
    for schema in raw_schemas:
        run("grant usage on schema {} to {}", schema, TRANSFORMER)
        run("grant select on all tables in schema {} to {}", schema, TRANSFORMER)
        run(
            "alter default privileges for role {} in schema {} grant select on tables to {}",
            LOADER,
            schema,
            TRANSFORMER,
        )
        run("revoke all on schema {} from {}", schema, ANALYST)
        run("revoke all on all tables in schema {} from {}", schema, ANALYST)
    # audit: exactly the privileges above (earlier versions granted more)
    for role, tables in AUDIT_PRIVILEGES.items():
        run("grant usage on schema audit to {}", role)
        run("revoke all on all tables in schema audit from {}", role)
        run("alter default privileges in schema audit revoke all on tables from {}", role)
        for table, privileges in tables.items():
            conn.execute(sql.SQL(f"grant {privileges} on audit.{{}} to {{}}").format(ident(table), ident(role)))
    run("grant usage on sequence audit.batch_id_seq to {}", LOADER)
    for schema in ("staging", "intermediate"):
        run("revoke all on schema {} from {}", schema, ANALYST)
        run("revoke all on all tables in schema {} from {}", schema, ANALYST)
    run("grant usage on schema marts to {}", ANALYST)
    run("grant select on all tables in schema marts to {}", ANALYST)
    run("grant execute on all functions in schema marts to {}", ANALYST)
    run("alter default privileges for role {} in schema marts grant select on tables to {}", TRANSFORMER, ANALYST)
    run("alter default privileges for role {} in schema marts grant execute on functions to {}", TRANSFORMER, ANALYST)
    # nobody creates objects in `public` or temporary tables unless granted (the loader and dbt use temp tables)
    run("revoke create on schema public from public")
    database = conn.info.dbname
    conn.execute(sql.SQL("revoke temporary on database {} from public").format(ident(database)))
    conn.execute(
        sql.SQL("grant connect, temporary on database {} to {}, {}").format(
            ident(database), ident(LOADER), ident(TRANSFORMER)
        )
    )
    conn.execute(sql.SQL("grant connect on database {} to {}").format(ident(database), ident(ANALYST)))


def bootstrap(params: ServerParams | None = None) -> None:
    """Create schemas, audit tables, raw tables, the tables the sources' Python steps write, and roles; safe to run
    again."""
    from elt.load import raw_table_ddl

    params = params or warehouse_params()
    with connect(params.database("postgres")) as conn:
        version = conn.info.server_version
    if version < MIN_SERVER_VERSION:
        raise RuntimeError(
            f"{params.host}:{params.port}: PostgreSQL {version // 10000} found; the platform needs 16 or newer"
            " (the checks and safe casts use pg_input_is_valid)"
        )
    create_database(params, params.dbname)
    raw_schemas = sorted({source.schema for source in SOURCES.values()})
    with connect(params) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('elt.bootstrap'))")
        for schema in (*raw_schemas, *LAYER_SCHEMAS):
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        conn.execute(AUDIT_DDL)
        for source in SOURCES.values():
            for table in source.tables:
                conn.execute(raw_table_ddl(source, table))
        for source in SOURCES.values():
            if source.ddl:
                conn.execute(source.ddl)
        _roles(conn)
        _grants(conn, raw_schemas)
