{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ delete_partition('as_of_date') }}",
        indexes=[{'columns': ['as_of_date', 'window_weeks']}],
    )
}}

-- Brands ranked by revenue over the 4, 12, 24 and 52 weeks that end at the run's data_interval_end
-- (exclusive), against the window of equal length just before, as known at the run.
with

known_sales as (

    select * from {{ ref('int_electronics__sales_by_partition') }}
    where grain = 'brand' and partition_date <= {{ run_date() }}

),

windows as (

    select
        weeks as window_weeks,
        {{ data_interval_end() }} - 7 * weeks as current_start,
        {{ data_interval_end() }} - 14 * weeks as previous_start
    from unnest(array[4, 12, 24, 52]) as weeks

),

brand_windows as (

    select
        windows.window_weeks,
        known_sales.brand,
        sum(known_sales.revenue) filter (where known_sales.sale_date >= windows.current_start) as revenue,
        sum(known_sales.orders) filter (where known_sales.sale_date >= windows.current_start) as orders,
        sum(known_sales.revenue) filter (where known_sales.sale_date < windows.current_start) as previous_revenue,
        bool_or(known_sales.sale_date >= windows.current_start) as sold_in_window,
        bool_or(known_sales.sale_date < windows.current_start) as sold_before
    from windows
    inner join known_sales
        on
            windows.previous_start <= known_sales.sale_date
            and known_sales.sale_date < {{ data_interval_end() }}
    group by windows.window_weeks, known_sales.brand

),

ranked as (

    select
        *,
        -- rank 1 is the highest revenue; a tie goes to the brand name in alphabetical order
        row_number() over (
            partition by window_weeks, sold_in_window order by revenue desc, brand asc
        ) as current_rank,
        row_number() over (
            partition by window_weeks, sold_before order by previous_revenue desc, brand asc
        ) as before_rank
    from brand_windows

),

final as (

    select
        {{ run_date() }} as as_of_date,
        window_weeks,
        brand,
        revenue,
        cast(orders as bigint) as orders,
        cast(current_rank as integer) as rank,
        previous_revenue,
        cast(case when sold_before then before_rank end as integer) as previous_rank,
        cast(case when sold_before then before_rank - current_rank end as integer) as rank_change,
        round(100 * (revenue - previous_revenue) / nullif(previous_revenue, 0), 2) as revenue_change_pct
    from ranked
    where sold_in_window

)

select * from final
