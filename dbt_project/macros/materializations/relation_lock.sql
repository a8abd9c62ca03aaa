{#
    Concurrency: Airflow backfills run several DAG runs at once (the UI offers 10), each building
    the same models with `dbt run --select <model>` for its own dates. dbt-adapters' table, view,
    incremental and seed materializations are not safe for that: they decide whether the relation
    exists from a relation cache filled when the invocation starts, they build through fixed names
    (`<model>__dbt_tmp`, `<model>__dbt_backup`), and they drop the backup after the COMMIT; so two
    runs of one model collide ("relation ... already exists", "..._dbt_backup already exists", or
    two first builds that both `create table`).

    The fix, for every build of a relation: one transaction-level advisory lock per relation, taken
    before anything looks at or touches the relation and held until the build's COMMIT; after the
    lock, the catalog (not the cache) says whether the relation exists; everything that uses the
    fixed names, the drop of the backup included, happens inside that one transaction. Builds of one
    relation then run one after another, each seeing what the previous one committed; builds of
    other relations are not held up, nor are readers (who take no advisory lock) any more than by
    dbt's own renames.
    COMMIT or ROLLBACK releases the lock, also when the process dies: it can never be left behind.

    Why not less: a lock in an ordinary pre-hook comes after the materialization has read the cache
    and dropped its leftovers, and is released by the COMMIT before the backup is dropped; unique
    tmp/backup names still leave two first builds creating the same table. So the project has its
    own table, view, incremental and seed materializations for Postgres (this folder): dbt-adapters'
    own with only these changes. is_incremental() takes the same lock at compile time, so that an
    incremental model's SQL is compiled for the state it is built on (compile and build share the
    node's connection and transaction, so the lock is held from one to the other).
    Proof: tests/integration/test_dbt_concurrency.py.
#}

{#-
    Wait for the build lock of `relation`, in the current transaction (dbt opens one if none is open).
    With `autocommit: true` in the profile dbt sends no BEGIN/COMMIT: every statement would commit, and
    release the lock, at once; so that is refused.
-#}
{% macro elt_lock_relation(relation) -%}
    {%- if target.get('autocommit') -%}
        {{ exceptions.raise_compiler_error(
            "The build lock of " ~ relation ~ " needs dbt's transactions: remove `autocommit: true` from the profile"
        ) }}
    {%- endif -%}
    {%- set key = relation.render() | replace("'", "''") -%}
    {%- do run_query("select pg_advisory_xact_lock(hashtext('" ~ key ~ "'))") -%}
{%- endmacro %}


{#- The relation as the catalog has it now (none if there is none): not dbt's cache, which is as old as the invocation. -#}
{% macro elt_get_relation(relation) -%}
    {%- set query -%}
        select case c.relkind when 'v' then 'view' when 'm' then 'materialized_view' else 'table' end
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        where
            n.nspname = '{{ relation.schema }}'
            and c.relname = '{{ relation.identifier }}'
            and c.relkind in ('r', 'p', 'v', 'm')
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(relation.incorporate(type=rows[0][0])) }}
{%- endmacro %}


{#- Lock `relation`, then return it as it exists now (or none). -#}
{% macro elt_lock_and_get_relation(relation) -%}
    {%- do elt_lock_relation(relation) -%}
    {{ return(elt_get_relation(relation)) }}
{%- endmacro %}


{#- Drop what a build that died half-way left under a fixed name (`__dbt_tmp`, `__dbt_backup`); call it under the lock. -#}
{% macro elt_drop_leftover(relation) -%}
    {%- do drop_relation_if_exists(elt_get_relation(relation)) -%}
{%- endmacro %}


{#-
    dbt's is_incremental() with the lock and a fresh look: the stock one reads the cache, so a run
    that started before another run's first build committed would compile its first-build SQL (every
    partition) and then append it to the table the other run created. Only incremental models lock.
-#}
{% macro is_incremental() -%}
    {%- if not execute or model.config.materialized != 'incremental' or should_full_refresh() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = elt_lock_and_get_relation(this) -%}
    {{ return(relation is not none and relation.type == 'table') }}
{%- endmacro %}


{#-
    dbt creates a missing schema (`create schema if not exists`) before the run; two runs doing it at
    once fail on pg_namespace's unique index. The lock makes the second wait and find it.
-#}
{% macro postgres__create_schema(relation) -%}
    {%- if relation.database -%}
        {{ adapter.verify_database(relation.database) }}
    {%- endif -%}
    {%- call statement('create_schema') -%}
        select pg_advisory_xact_lock(hashtext('create schema {{ relation.schema }}'));
        create schema if not exists {{ relation.without_identifier().include(database=False) }}
    {%- endcall -%}
{%- endmacro %}
