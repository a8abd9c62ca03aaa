{#
    The run's dates (`run_date` = the date of data_interval_start, i.e. the partition date;
    `data_interval_end`): the vars of a dbt run by hand (--vars), else the environment Airflow's tasks
    set (ELT_RUN_DATE, ELT_DATA_INTERVAL_END), read only when the SQL is executed so that a new date
    leaves dbt's partial parsing intact. Each returns a quoted date literal. A missing or malformed
    date is a compiler error when the SQL is executed; `dbt parse` (which Airflow uses to build the
    manifest) works without them.
#}
{% macro run_date() -%}
    {{ return(_elt_date_var('run_date')) }}
{%- endmacro %}


{% macro data_interval_end() -%}
    {{ return(_elt_date_var('data_interval_end')) }}
{%- endmacro %}


{% macro _elt_date_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var('ELT_' ~ (name | upper), '') or none -%}
    {%- endif -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "dbt var '" ~ name ~ "' is missing. Pass the run's dates, e.g. "
                ~ "--vars '{run_date: 2018-07-21, data_interval_end: 2018-07-22}'"
            ) }}
        {%- endif -%}
        {#- parse time: a placeholder, never executed -#}
        {{ return("cast('1970-01-01' as date)") }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "dbt var '" ~ name ~ "' must be a date YYYY-MM-DD, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return("cast('" ~ text ~ "' as date)") }}
{%- endmacro %}
