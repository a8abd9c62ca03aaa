#!/usr/bin/env bash
# Runs once, on the first start of the postgres container (empty data volume), after the `airflow`
# database (POSTGRES_DB) exists: creates the warehouse owner `elt` and the `warehouse` database.
# `elt` gets CREATEROLE: `elt.warehouse.bootstrap()` creates the elt_loader/elt_transformer/elt_analyst roles.
set -euo pipefail

: "${WAREHOUSE_PASSWORD:?set WAREHOUSE_PASSWORD in .env}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=warehouse_password="$WAREHOUSE_PASSWORD" <<'SQL'
select format('create role elt login createrole password %L', :'warehouse_password')
where not exists (select from pg_roles where rolname = 'elt')
\gexec

select 'create database warehouse owner elt'
where not exists (select from pg_database where datname = 'warehouse')
\gexec
SQL
