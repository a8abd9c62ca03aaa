{#
    dbt-adapters' view materialization for Postgres, safe for concurrent runs (see relation_lock.sql).
    Changes to the original: the lock and a catalog look instead of the cache, before the leftovers
    are dropped; the old view is dropped before the COMMIT, not after it.
#}
{%- materialization view, adapter='postgres' -%}

    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}

    -- `BEGIN` happens here: the lock first, then what exists
    {%- set existing_relation = elt_lock_and_get_relation(target_relation) -%}
    {%- set backup_relation_type = 'view' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- do elt_drop_leftover(intermediate_relation) -%}
    {%- do elt_drop_leftover(backup_relation) -%}

    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {{ get_create_view_as_sql(intermediate_relation, sql) }}
    {%- endcall %}

    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}

    {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}

    {% do persist_docs(target_relation, model) %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {% if existing_relation is not none %}
        {{ adapter.drop_relation(backup_relation) }}
    {% endif %}

    -- `COMMIT` happens here, and releases the lock
    {{ adapter.commit() }}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}
