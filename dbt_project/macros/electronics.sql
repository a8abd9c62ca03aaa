{#
    The electronics store's time zone (the setting ELECTRONICS_TIMEZONE, an IANA name; default UTC):
    sale dates and hours are the store's. Returned as a quoted literal; a name that is not a plausible
    IANA zone name is a compiler error, and Postgres rejects an unknown one by name.
    Changing the setting after data is loaded needs a full refresh of the electronics models.
#}
{% macro electronics_timezone() -%}
    {%- set name = (env_var('ELECTRONICS_TIMEZONE', '') | trim) or 'UTC' -%}
    {%- set bare = name | replace('/', '') | replace('_', '') | replace('-', '') | replace('+', '') -%}
    {%- if not bare.isalnum() or not bare.isascii() or name.startswith('/') -%}
        {{ exceptions.raise_compiler_error(
            "ELECTRONICS_TIMEZONE must be an IANA time zone name such as 'Asia/Almaty', got '" ~ name ~ "'"
        ) }}
    {%- endif -%}
    {{ return("'" ~ name ~ "'") }}
{%- endmacro %}


{# The store-local wall-clock time of a timestamptz. #}
{% macro electronics_local_time(column) -%}
    ({{ column }} at time zone {{ electronics_timezone() }})
{%- endmacro %}


{#
    The sale dates a run must rebuild: those its partition's lines fall on now, or fell on before the
    run replaced them (int_electronics__partition_sale_dates). Every sale date on a first build.
#}
{% macro electronics_rebuilt_dates() -%}
    select sale_date from {{ ref('int_electronics__partition_sale_dates') }}
    where partition_date = {{ run_date() }}
{%- endmacro %}


{# The filter of the lines a model rebuilt by sale date reads: the rebuilt dates' (every line on a first build). #}
{% macro electronics_rebuilt_only() -%}
    {%- if is_incremental() -%}
        sale_date in ({{ electronics_rebuilt_dates() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#
    Pre-hook of the models rebuilt by sale date: on an incremental run, delete the rows of the sale
    dates (or months) the run rebuilds; in the build's transaction, like delete_partition.
#}
{% macro delete_rebuilt_dates(column, grain='day') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} in (
            select distinct cast(date_trunc('{{ grain }}', sale_date) as date) from ({{ electronics_rebuilt_dates() }}) as rebuilt
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#
    What an electronics as-of date is computed from, for prepare_as_of_builds: each partition's daily
    totals and the hash of the files it was loaded from, per sale date.
#}
{% macro electronics_as_of_inputs() -%}
    select
        partition_date,
        sale_date,
        concat_ws(':', sale_date, files_fingerprint, revenue, units, orders) as input
    from {{ ref('int_electronics__sales_by_partition') }}
    where grain = 'total'
{%- endmacro %}


{#
    The sale dates an electronics as-of date reads: from 1 January of the year before (the KPIs' same
    period last year) or 104 weeks back (the 52-week window and the one before it), whichever is
    earlier, to its period's end. Backfilling older history then remakes no later date it cannot change.
#}
{% macro electronics_as_of_relevant() -%}
    known.sale_date >= least(
        cast(date_trunc('year', candidates.as_of_date) - interval '1 year' as date),
        candidates.period_end - 7 * 104
    )
    and known.sale_date < candidates.period_end
{%- endmacro %}
