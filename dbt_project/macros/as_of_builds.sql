{#
    Marts "as known at the run" (one set of rows per as_of_date, from the partitions loaded up to that
    date) stay right when partitions commit out of order: a backfill running several dates at once, or a
    re-run of an old date whose file changed. Each build makes its run's date, and every later date
    already in the mart whose inputs changed since it was built. A date's inputs fingerprint is the md5 of
    the `known_inputs` rows (partition_date, input: text describing part of a partition's content) of the
    partitions up to it that are `relevant` to it (a predicate on `known` and `candidates`: as_of_date,
    period_end; all by default), stored with its rows (column inputs_fingerprint). So a re-run of unchanged
    files remakes nothing else, and the build of the partition that committed last fixes the dates before.
    The dates a build makes are listed once, in a temporary table (as_of_builds: as_of_date, period_end,
    inputs_fingerprint), by the first pre-hook: the delete and the select then agree whatever commits
    meanwhile. A model uses it as:
        pre_hook=["{{ prepare_as_of_builds(known_inputs, relevant) }}", "{{ delete_as_of_builds() }}"]
    and selects from {{ as_of_builds() }} instead of using run_date().

    A model that makes a date from the day before (its rows carry what the next date needs) also lists,
    with prepare_as_of_bases, which of its dates have a base: the day before, built and still current.
    A model downstream of an as-of model follows it with prepare_as_of_builds_from: it makes the run's
    date and the later dates its upstream made again, and keeps the upstream's fingerprints.
#}
{% macro as_of_builds() -%}
    pg_temp.as_of_builds
{%- endmacro %}


{# Pre-hook: list the dates this build makes in as_of_builds, dropped at the build's commit. #}
{% macro prepare_as_of_builds(known_inputs, relevant='true') -%}
    create temporary table as_of_builds on commit drop as
    with

    dates as (
        select {{ run_date() }} as as_of_date
        union
        select distinct as_of_date from {{ _as_of_built() }} as built
        where as_of_date > {{ run_date() }}
    ),

    candidates as (
        select
            as_of_date,
            as_of_date + ({{ data_interval_end() }} - {{ run_date() }}) as period_end
        from dates
    ),

    {{ _as_of_fingerprints(known_inputs, relevant) }}

    select
        as_of_date,
        period_end,
        inputs_fingerprint
    from fingerprints
    where
        as_of_date = {{ run_date() }}
        or not exists (
            select from {{ _as_of_built() }} as built
            where
                built.as_of_date = fingerprints.as_of_date
                and built.inputs_fingerprint = fingerprints.inputs_fingerprint
        );
    analyze {{ as_of_builds() }}  -- else the planner takes it for a thousand rows
{%- endmacro %}


{#
    Pre-hook, after prepare_as_of_builds: list in as_of_bases (as_of_date, base_date) each date this build makes,
    with the day before as its base_date when that day keeps its rows (not made again by this build) and they
    are current (built from the inputs it has now); else base_date is null and the date is made from scratch.
#}
{% macro prepare_as_of_bases(known_inputs, relevant='true') -%}
    create temporary table as_of_bases on commit drop as
    with

    candidates as (
        select
            as_of_date - 1 as as_of_date,
            as_of_date - 1 + ({{ data_interval_end() }} - {{ run_date() }}) as period_end
        from {{ as_of_builds() }} as builds
        where not exists (select from {{ as_of_builds() }} as made where made.as_of_date = builds.as_of_date - 1)
    ),

    {{ _as_of_fingerprints(known_inputs, relevant) }}

    select
        builds.as_of_date,
        current_bases.as_of_date as base_date
    from {{ as_of_builds() }} as builds
    left join fingerprints as current_bases
        on
            current_bases.as_of_date = builds.as_of_date - 1
            and exists (
                select from {{ _as_of_built() }} as built
                where
                    built.as_of_date = current_bases.as_of_date
                    and built.inputs_fingerprint = current_bases.inputs_fingerprint
            );
    analyze {{ as_of_bases() }}  -- else the planner takes it for a thousand rows
{%- endmacro %}


{% macro as_of_bases() -%}
    pg_temp.as_of_bases
{%- endmacro %}


{#
    Pre-hook of a model downstream of an as-of model (`upstream`, with as_of_date and inputs_fingerprint): list in
    as_of_builds the run's date and each later date whose upstream fingerprint differs from this model's, with the
    upstream's fingerprint. So it makes again what its upstream made again, and never a date its upstream lacks.
#}
{% macro prepare_as_of_builds_from(upstream) -%}
    create temporary table as_of_builds on commit drop as
    with

    upstream_dates as (
        select distinct
            as_of_date,
            inputs_fingerprint
        from {{ upstream }}
        where as_of_date >= {{ run_date() }}
    ),

    dates as (
        select
            {{ run_date() }} as as_of_date,
            (select inputs_fingerprint from upstream_dates where as_of_date = {{ run_date() }}) as inputs_fingerprint
        union
        select
            as_of_date,
            inputs_fingerprint
        from upstream_dates
        where
            as_of_date > {{ run_date() }}
            and not exists (
                select from {{ _as_of_built() }} as built
                where
                    built.as_of_date = upstream_dates.as_of_date
                    and built.inputs_fingerprint = upstream_dates.inputs_fingerprint
            )
    )

    select
        as_of_date,
        as_of_date + ({{ data_interval_end() }} - {{ run_date() }}) as period_end,
        inputs_fingerprint
    from dates;
    analyze {{ as_of_builds() }}  -- else the planner takes it for a thousand rows
{%- endmacro %}


{# Pre-hook, after prepare_as_of_builds: delete the rows of the dates this build makes. #}
{% macro delete_as_of_builds() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where as_of_date in (select as_of_date from {{ as_of_builds() }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#
    The mart's rows as built so far (as_of_date, inputs_fingerprint): none on a first build, and no
    fingerprint in a mart built before rows had one (so each of its later dates is made again once).
#}
{% macro _as_of_built() -%}
    {%- if not is_incremental() -%}
        (select cast(null as date) as as_of_date, cast(null as text) as inputs_fingerprint where false)
    {%- elif relation_has_column(this, 'inputs_fingerprint') -%}
        {{ this }}
    {%- else -%}
        (select as_of_date, cast(null as text) as inputs_fingerprint from {{ this }})
    {%- endif -%}
{%- endmacro %}


{# The `fingerprints` CTE (as_of_date, period_end, inputs_fingerprint) of the dates of a `candidates` CTE. #}
{% macro _as_of_fingerprints(known_inputs, relevant) -%}
    known as (
        {{ known_inputs }}
    ),

    fingerprints as (
        select
            candidates.as_of_date,
            candidates.period_end,
            md5(coalesce(string_agg(
                known.partition_date || ':' || known.input, ',' order by known.partition_date, known.input
            ), '')) as inputs_fingerprint
        from candidates
        left join known on candidates.as_of_date >= known.partition_date and {{ relevant }}
        group by candidates.as_of_date, candidates.period_end
    )
{%- endmacro %}
