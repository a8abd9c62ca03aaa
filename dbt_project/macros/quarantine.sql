{#
    The rows of a raw table that passed validation. A row's batch must have been validated: a run of
    its partition's suite is recorded in audit.dq_runs that saw that batch (`dq_runs.batch_id` is the
    newest batch the run checked; batch ids only grow). Of those rows, every row except those with an
    `error` exception of their own batch, file and line in audit.dq_exceptions. So a corrected file
    landed again under the same name is judged by its own validation, never by the old file's lines.
    `where` narrows the raw rows first (an incremental model reads only its run's partition). Warn rows
    pass.
#}
{% macro passed_rows(source_name, table_name, where=none) -%}
    {%- set relation = source('raw_' ~ source_name, table_name) -%}
    select raw.*
    from {{ relation }} as raw
    where
        exists (
            select 1
            from {{ source('audit', 'dq_runs') }} as validations
            where
                validations.source = '{{ source_name }}'
                and validations.table_name = '{{ table_name }}'
                and validations.partition_date = raw._partition_date
                and validations.batch_id >= raw._batch_id
        )
        and not exists (
            select 1
            from {{ source('audit', 'dq_exceptions') }} as exceptions
            where
                exceptions.source = '{{ source_name }}'
                and exceptions.table_name = '{{ table_name }}'
                and exceptions.severity = 'error'
                and exceptions.batch_id = raw._batch_id
                and exceptions.source_file = raw._source_file
                and exceptions.source_row = raw._source_row
        )
        and {{ where or 'true' }}
{%- endmacro %}
