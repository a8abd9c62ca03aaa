{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ delete_partition('as_of_date') }}",
        indexes=[{'columns': ['as_of_date'], 'unique': true}],
    )
}}

-- One row per run: the year to date of the run's date, against the same days of the year before, as
-- known at the run (lines of partitions up to its date), so a backfill reproduces the row.
with

known_sales as (

    select * from {{ ref('int_electronics__sales_by_partition') }}
    where grain = 'total' and partition_date <= {{ run_date() }}

),

periods as (

    select
        {{ run_date() }} as as_of_date,
        cast(extract(year from {{ run_date() }}) as integer) as year,  -- noqa: RF04
        cast(date_trunc('year', {{ run_date() }}) as date) as year_start,
        {{ data_interval_end() }} as period_end,
        cast(date_trunc('year', {{ run_date() }}) - interval '1 year' as date) as last_year_start,
        cast({{ data_interval_end() }} - interval '1 year' as date) as last_year_end

),

totals as (

    select
        periods.as_of_date,
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
            periods.last_year_start <= known_sales.sale_date
            and periods.period_end > known_sales.sale_date
    group by periods.as_of_date, periods.year

),

final as (

    select
        as_of_date,
        year,
        revenue_ytd,
        cast(orders_ytd as bigint) as orders_ytd,
        round(revenue_ytd / nullif(orders_ytd, 0), 2) as avg_order_value_ytd,
        revenue_same_period_last_year
    from totals

)

select * from final
