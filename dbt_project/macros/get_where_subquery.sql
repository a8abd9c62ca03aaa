{#
    dbt's `where` config of a data test, with `{run_date}` replaced by the run's partition date when the
    test executes (macros/run_date.sql). The config is rendered when dbt parses the project, so
    `{{ var('run_date') }}` there would freeze the parse's date into the manifest, and a new date would
    make dbt parse the whole project again.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '{run_date}' in where -%}
        {%- set where = where | replace('{run_date}', run_date()) -%}
    {%- endif -%}
    {{ return(('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') if where else relation) }}
{%- endmacro %}
