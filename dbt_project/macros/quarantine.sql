{#
    The raw rows of a table that carry an `error` exception (matched on the row version's file and
    line), for staging models to leave out: `where not exists (...)` against this select.
#}
{% macro quarantined(source_name, table_name) -%}
    select
        source_file,
        source_row
    from {{ source('audit', 'dq_exceptions') }}
    where
        source = '{{ source_name }}'
        and table_name = '{{ table_name }}'
        and severity = 'error'
{%- endmacro %}
