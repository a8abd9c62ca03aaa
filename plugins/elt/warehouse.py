"""Warehouse connection settings, schemas, audit tables and roles."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from elt import config
from elt.sources import SOURCES

WAREHOUSE_DB = "warehouse"
AIRFLOW_DB = "airflow"
LAYER_SCHEMAS = ("audit", "staging", "intermediate", "marts")
ROLES = ("elt_loader", "elt_transformer", "elt_analyst")
MIN_SERVER_VERSION = 160000


@dataclass(frozen=True)
class ServerParams:
    """Where a Postgres database is: host (or socket directory), port, user, password, database."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def database(self, dbname: str) -> ServerParams:
        return replace(self, dbname=dbname)

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def libpq_url(self) -> str:
        """URL for psycopg and psql."""
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        if self.is_socket:
            return f"postgresql://{auth}@/{self.dbname}?host={quote(self.host)}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    def sqlalchemy_url(self, driver: str = "psycopg2") -> str:
        """URL for SQLAlchemy (GX, Airflow metadata)."""
        return self.libpq_url().replace("postgresql://", f"postgresql+{driver}://", 1)

    def airflow_conn_uri(self) -> str:
        """Value for `AIRFLOW_CONN_<ID>`: a socket directory is percent-encoded as the host."""
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"postgres://{auth}@{quote(self.host, safe='')}:{self.port}/{self.dbname}"


def _params_from_libpq(url: str) -> ServerParams:
    parts = conninfo_to_dict(url)
    return ServerParams(
        host=parts.get("host") or "localhost",
        port=int(parts.get("port") or 5432),
        user=parts.get("user") or "postgres",
        password=parts.get("password") or "",
        dbname=parts.get("dbname") or WAREHOUSE_DB,
    )


def _params_from_airflow_conn(value: str) -> ServerParams:
    """Parse `AIRFLOW_CONN_WAREHOUSE` in its URI or JSON form."""
    if value.lstrip().startswith("{"):
        conn = json.loads(value)
        return ServerParams(
            host=conn.get("host") or "localhost",
            port=int(conn.get("port") or 5432),
            user=conn.get("login") or "postgres",
            password=conn.get("password") or "",
            dbname=conn.get("schema") or WAREHOUSE_DB,
        )
    parts = urlsplit(value)
    hostport = parts.netloc.rsplit("@", 1)[-1]
    host, _, port = hostport.rpartition(":") if hostport.rpartition(":")[2].isdigit() else (hostport, "", "")
    return ServerParams(
        host=unquote(host) or "localhost",
        port=int(port or 5432),
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=parts.path.lstrip("/") or WAREHOUSE_DB,
    )


def embedded_params() -> ServerParams:
    """The project's own server: a Unix socket in the state folder, trust authentication."""
    from elt import localdb

    return ServerParams(host=str(localdb.data_dir()), port=5432, user="postgres", password="elt", dbname=WAREHOUSE_DB)


def configured_params() -> ServerParams | None:
    """The server named by `ELT_WAREHOUSE_URL` or `AIRFLOW_CONN_WAREHOUSE`, if any."""
    if url := config.setting("ELT_WAREHOUSE_URL"):
        return _params_from_libpq(url)
    if conn := config.setting("AIRFLOW_CONN_WAREHOUSE"):
        return _params_from_airflow_conn(conn)
    return None


def warehouse_params() -> ServerParams:
    """The warehouse: the configured server, or the embedded one."""
    return configured_params() or embedded_params()


def connect(params: ServerParams | None = None, **kwargs) -> psycopg.Connection:
    """A psycopg 3 connection to the warehouse."""
    return psycopg.connect((params or warehouse_params()).libpq_url(), **kwargs)


def create_database(params: ServerParams, dbname: str) -> bool:
    """Create `dbname` on the server of `params` unless it exists; True if created."""
    with psycopg.connect(params.database("postgres").libpq_url(), autocommit=True) as conn:
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

# Written by elt.segmentation (k-means, not dbt): created here so that they exist, with their grants, before a run.
SEGMENTATION_DDL = """
create table if not exists marts.customer_clusters (
    as_of_date date not null,
    user_id bigint not null,
    cluster int not null check (cluster >= 1),
    primary key (as_of_date, user_id)
);
comment on table marts.customer_clusters is
    'The k-means cluster of each customer who bought in the year before as_of_date (weekly segmentation,'
    ' elt.segmentation). Clusters are numbered 1..k by descending mean spend: 1 = the top spenders.'
    ' Profiles: marts.customer_cluster_profiles.';

create table if not exists marts.customer_cluster_profiles (
    as_of_date date not null,
    cluster int not null check (cluster >= 1),
    customers int not null,
    share_of_customers numeric not null,
    recency_days_mean numeric,
    frequency_orders_last_year_mean numeric,
    spend_last_year_mean numeric,
    margin_last_year_mean numeric,
    items_last_year_mean numeric,
    return_rate_mean numeric,
    distance_km_mean numeric,
    primary key (as_of_date, cluster)
);
comment on table marts.customer_cluster_profiles is
    'One row per cluster of marts.customer_clusters and as_of_date: its customers, their share of the'
    ' date''s clustered customers, and the mean of each clustering feature (from marts.customer_segments;'
    ' nulls left out, 2 decimals, return_rate 4).';
"""

ROLE_DDL = """
do $$
declare r text;
begin
    foreach r in array array['elt_loader', 'elt_transformer', 'elt_analyst'] loop
        begin
            execute format('create role %I nologin', r);
        exception when duplicate_object or unique_violation then null;
        end;
    end loop;
end $$;
"""


def _grants(raw_schemas: list[str]) -> list[sql.Composable]:
    """Least privilege: loader writes raw+audit, transformer reads raw and writes models, analyst reads marts+audit."""
    ident = sql.Identifier
    statements: list[sql.Composable] = []

    def schema_grants(schema: str, role: str, table_privs: str, create: bool) -> None:
        privs = "usage, create" if create else "usage"
        statements.append(sql.SQL(f"grant {privs} on schema {{}} to {{}}").format(ident(schema), ident(role)))
        statements.append(
            sql.SQL(f"grant {table_privs} on all tables in schema {{}} to {{}}").format(ident(schema), ident(role))
        )
        statements.append(
            sql.SQL(f"alter default privileges in schema {{}} grant {table_privs} on tables to {{}}").format(
                ident(schema), ident(role)
            )
        )

    for schema in raw_schemas:
        schema_grants(schema, "elt_loader", "all", create=True)
        schema_grants(schema, "elt_transformer", "select", create=False)
    schema_grants("audit", "elt_loader", "all", create=False)
    statements.append(sql.SQL("grant usage on sequence audit.batch_id_seq to elt_loader"))
    schema_grants("audit", "elt_transformer", "select", create=False)
    schema_grants("audit", "elt_analyst", "select", create=False)
    for schema in ("staging", "intermediate", "marts"):
        schema_grants(schema, "elt_transformer", "all", create=True)
    schema_grants("marts", "elt_analyst", "select", create=False)
    statements.append(sql.SQL("grant execute on all functions in schema marts to elt_analyst"))
    return statements


def bootstrap(params: ServerParams | None = None) -> None:
    """Create schemas, audit tables, raw tables, the segmentation marts and roles; safe to run again."""
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
        conn.execute(SEGMENTATION_DDL)
        conn.execute(ROLE_DDL)
        for statement in _grants(raw_schemas):
            conn.execute(statement)
