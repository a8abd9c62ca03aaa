{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        full_refresh=false,
        pre_hook=[
            "{{ prepare_as_of_builds(electronics_as_of_inputs(), electronics_as_of_relevant()) }}",
            "{{ delete_as_of_builds() }}",
        ],
        indexes=[{'columns': ['as_of_date'], 'unique': true}],
    )
}}

-- One row per run: the year to date of the run's date, against the same days of the year before, as
-- known at the run (lines of partitions up to its date), so a backfill reproduces the row. A build also
-- remakes later dates whose inputs changed (see macros/as_of_builds.sql).
with

as_of as (

    select * from {{ as_of_builds() }}

),

known_sales as (

    select * from {{ ref('int_electronics__sales_by_partition') }}
    where grain = 'total'

),

periods as (

    select
        as_of_date,
        inputs_fingerprint,
        cast(extract(year from as_of_date) as integer) as year,  -- noqa: RF04
        cast(date_trunc('year', as_of_date) as date) as year_start,
        period_end,
        cast(date_trunc('year', as_of_date) - interval '1 year' as date) as last_year_start,
        cast(period_end - interval '1 year' as date) as last_year_end
    from as_of

),

totals as (

    select
        periods.as_of_date,
        periods.inputs_fingerprint,
        periods.year,
        coalesce(sum(known_sales.revenue) filter (
            where known_sales.sale_date >= periods.year_start and known_sales.sale_date < periods.period_end
        ), 0) as revenue_ytd,
        coalesce(sum(known_sales.orders) filter (
            where known_sales.sale_date >= periods.year_start and known_sales.sale_date < periods.period_end
        ), 0) as orders_ytd,
        coalesce(sum(known_sales.revenue) filter (
            where known_sales.sale_date >= periods.last_year_start and known_sales.sale_date < periods.last_year_end
        ), 0) as revenue_same_period_last_year
    from periods
    left join known_sales
        on
            periods.as_of_date >= known_sales.partition_date
            and periods.last_year_start <= known_sales.sale_date
            and periods.period_end > known_sales.sale_date
    group by periods.as_of_date, periods.inputs_fingerprint, periods.year

),

final as (

    select
        as_of_date,
        year,
        revenue_ytd,
        cast(orders_ytd as bigint) as orders_ytd,
        round(revenue_ytd / nullif(orders_ytd, 0), 2) as avg_order_value_ytd,
        revenue_same_period_last_year,
        inputs_fingerprint
    from totals

)

select * from final
