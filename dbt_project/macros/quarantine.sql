{#
    The rows of a raw table that passed validation: every row except those with an `error`
    exception in audit.dq_exceptions (matched on the row version's file and line). `where` narrows
    the raw rows first (an incremental model reads only its run's partition). Warn rows pass.
#}
{% macro passed_rows(source_name, table_name, where=none) -%}
    {%- set relation = source('raw_' ~ source_name, table_name) -%}
    select raw.*
    from {{ relation }} as raw
    where
        not exists (
            select 1
            from {{ source('audit', 'dq_exceptions') }} as exceptions
            where
                exceptions.source = '{{ source_name }}'
                and exceptions.table_name = '{{ table_name }}'
                and exceptions.severity = 'error'
                and exceptions.source_file = raw._source_file
                and exceptions.source_row = raw._source_row
        )
        and {{ where or 'true' }}
{%- endmacro %}
