{#
    Pre-hook of the incremental models keyed on a date: on an incremental run, delete the run's
    partition (`column` = `value`, by default the run_date) before the new rows are appended, so that running a date twice
    gives the same rows as running it once. The hook runs in the model's transaction, which holds
    the model's build lock (macros/materializations/relation_lock.sql): runs of other dates wait,
    and the delete and the insert commit together. On a first run or a full refresh there is
    nothing to delete.
#}
{% macro delete_partition(column, value=none) -%}
    {%- set value = value or run_date() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} = {{ value }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
