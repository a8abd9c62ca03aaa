{#
    dbt-adapters' incremental materialization for Postgres, safe for concurrent runs (see
    relation_lock.sql). Changes to the original: the lock and a catalog look instead of the cache,
    before the leftovers are dropped; on a full refresh the old table is dropped before the COMMIT.
    The model's SQL was compiled under the same lock, held since is_incremental() took it, so it
    matches what exists; pre-hooks outside the transaction would COMMIT in between, and are refused.
#}
{% materialization incremental, adapter='postgres' -%}

    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set temp_relation = make_temp_relation(target_relation) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}
    {%- set grant_config = config.get('grants') -%}

    {%- if pre_hooks | selectattr('transaction', 'equalto', false) | list | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "incremental models of this project run their pre-hooks inside the build's transaction"
            ~ " (transaction: false would release the build lock; see macros/materializations)"
        ) }}
    {%- endif -%}

    -- `BEGIN` happened when the SQL was compiled, or happens here: the lock first, then what exists
    {%- set existing_relation = elt_lock_and_get_relation(target_relation) -%}
    {%- set full_refresh_mode = should_full_refresh() or (existing_relation is not none and existing_relation.is_view) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- do elt_drop_leftover(intermediate_relation) -%}
    {%- do elt_drop_leftover(backup_relation) -%}

    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% set to_drop = [] %}

    {% set incremental_strategy = config.get('incremental_strategy') or 'default' %}
    {% set strategy_sql_macro_func = adapter.get_incremental_strategy_macro(context, incremental_strategy) %}

    {% if existing_relation is none %}
        {% set build_sql = get_create_table_as_sql(False, target_relation, sql) %}
        {% set relation_for_indexes = target_relation %}
    {% elif full_refresh_mode %}
        {% set build_sql = get_create_table_as_sql(False, intermediate_relation, sql) %}
        {% set relation_for_indexes = intermediate_relation %}
        {% set need_swap = true %}
    {% else %}
        {% do run_query(get_create_table_as_sql(True, temp_relation, sql)) %}
        {% set relation_for_indexes = temp_relation %}
        {% set contract_config = config.get('contract') %}
        {% if not contract_config or not contract_config.enforced %}
            {% do adapter.expand_target_column_types(
                from_relation=temp_relation,
                to_relation=target_relation) %}
        {% endif %}
        {#-- Process schema changes. Returns dict of changes if successful. Use source columns for upserting/merging --#}
        {% set dest_columns = process_schema_changes(on_schema_change, temp_relation, existing_relation) %}
        {% if not dest_columns %}
            {% set dest_columns = adapter.get_columns_in_relation(existing_relation) %}
        {% endif %}

        {#-- Get the incremental_strategy, the macro to use for the strategy, and build the sql --#}
        {% set incremental_predicates = config.get('predicates', none) or config.get('incremental_predicates', none) %}
        {% set strategy_arg_dict = ({
            'target_relation': target_relation,
            'temp_relation': temp_relation,
            'unique_key': unique_key,
            'dest_columns': dest_columns,
            'incremental_predicates': incremental_predicates,
        }) %}
        {% set build_sql = strategy_sql_macro_func(strategy_arg_dict) %}
    {% endif %}

    {% call statement("main") %}
        {{ build_sql }}
    {% endcall %}

    {% if existing_relation is none or existing_relation.is_view or should_full_refresh() %}
        {% do create_indexes(relation_for_indexes) %}
    {% endif %}

    {% if need_swap %}
        {% do adapter.rename_relation(target_relation, backup_relation) %}
        {% do adapter.rename_relation(intermediate_relation, target_relation) %}
        {% do to_drop.append(backup_relation) %}
    {% endif %}

    {% set should_revoke = should_revoke(existing_relation, full_refresh_mode) %}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}

    {% do persist_docs(target_relation, model) %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {% for rel in to_drop %}
        {% do adapter.drop_relation(rel) %}
    {% endfor %}

    -- `COMMIT` happens here, and releases the lock
    {% do adapter.commit() %}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{%- endmaterialization %}
