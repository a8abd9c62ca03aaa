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
    The as-of marts (rows per as_of_date, from the partitions loaded up to that date) stay right when
    partitions commit out of order: a backfill running several dates at once, or a re-run of an old date
    whose file changed. Each build rebuilds its run's date, and every later date already in the mart whose
    inputs changed since it was built. A date's inputs fingerprint covers each partition up to it: its
    daily totals and the content (sha256) of the files it was loaded from. So a re-run of unchanged files
    rebuilds nothing else, and the last build of the partition that committed last fixes what came before.
    The dates a build makes are listed once, in a temporary table (electronics_as_of_builds), by the first
    pre-hook: its delete and its select then agree whatever commits meanwhile. Used in the as-of marts as:
        pre_hook=["{{ prepare_electronics_as_of_builds() }}", "{{ delete_electronics_as_of_builds() }}"]
#}
{% macro electronics_as_of_builds() -%}
    pg_temp.electronics_as_of_builds
{%- endmacro %}


{#
    Pre-hook: list the as_of_dates this build makes (with the end of each date's window and its inputs
    fingerprint) in electronics_as_of_builds, dropped at the build's commit.
#}
{% macro prepare_electronics_as_of_builds() -%}
    create temporary table electronics_as_of_builds on commit drop as
    with

    candidates as (
        select {{ run_date() }} as as_of_date
        union
        select distinct as_of_date from {{ electronics_as_of_built() }} as built
        where as_of_date > {{ run_date() }}
    ),

    fingerprints as (
        select
            candidates.as_of_date,
            md5(coalesce(string_agg(
                concat_ws(
                    ':', known.partition_date, known.sale_date, known.files_fingerprint,
                    known.revenue, known.units, known.orders
                ),
                ',' order by known.partition_date, known.sale_date
            ), '')) as inputs_fingerprint
        from candidates
        left join {{ ref('int_electronics__sales_by_partition') }} as known
            on known.grain = 'total' and candidates.as_of_date >= known.partition_date
        group by candidates.as_of_date
    )

    select
        as_of_date,
        as_of_date + ({{ data_interval_end() }} - {{ run_date() }}) as period_end,
        inputs_fingerprint
    from fingerprints
    where
        as_of_date = {{ run_date() }}
        or not exists (
            select from {{ electronics_as_of_built() }} as built
            where
                built.as_of_date = fingerprints.as_of_date
                and built.inputs_fingerprint = fingerprints.inputs_fingerprint
        )
{%- endmacro %}


{#
    The mart's rows as built so far (as_of_date, inputs_fingerprint): none on a first build, and no
    fingerprint in a mart built before rows had one (so each of its later dates is rebuilt once).
#}
{% macro electronics_as_of_built() -%}
    {%- if not is_incremental() -%}
        (select cast(null as date) as as_of_date, cast(null as text) as inputs_fingerprint where false)
    {%- elif relation_has_column(this, 'inputs_fingerprint') -%}
        {{ this }}
    {%- else -%}
        (select as_of_date, cast(null as text) as inputs_fingerprint from {{ this }})
    {%- endif -%}
{%- endmacro %}


{# Pre-hook, after prepare_electronics_as_of_builds: delete the rows of the dates this build makes. #}
{% macro delete_electronics_as_of_builds() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where as_of_date in (select as_of_date from {{ electronics_as_of_builds() }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
