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
        indexes=[{'columns': ['as_of_date', 'window_weeks']}],
    )
}}

-- Brands ranked by revenue over the 4, 12, 24 and 52 weeks that end at the run's data_interval_end
-- (exclusive), against the window of equal length just before, as known at the run. A build also
-- remakes later dates whose inputs changed (see macros/as_of_builds.sql).
with

as_of as (

    select * from {{ as_of_builds() }}

),

known_sales as (

    select * from {{ ref('int_electronics__sales_by_partition') }}
    where grain = 'brand'

),

windows as (

    select
        as_of.as_of_date,
        as_of.inputs_fingerprint,
        as_of.period_end,
        weeks as window_weeks,
        as_of.period_end - 7 * weeks as current_start,
        as_of.period_end - 14 * weeks as previous_start
    from as_of
    cross join unnest(array[4, 12, 24, 52]) as weeks

),

brand_windows as (

    select
        windows.as_of_date,
        windows.inputs_fingerprint,
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
            windows.as_of_date >= known_sales.partition_date
            and windows.previous_start <= known_sales.sale_date
            and windows.period_end > known_sales.sale_date
    group by windows.as_of_date, windows.inputs_fingerprint, windows.window_weeks, known_sales.brand

),

ranked as (

    select
        *,
        -- rank 1 is the highest revenue; a tie goes to the brand name in alphabetical order
        row_number() over (
            partition by as_of_date, window_weeks, sold_in_window order by revenue desc, brand asc
        ) as current_rank,
        row_number() over (
            partition by as_of_date, window_weeks, sold_before order by previous_revenue desc, brand asc
        ) as before_rank
    from brand_windows

),

final as (

    select
        as_of_date,
        window_weeks,
        brand,
        revenue,
        cast(orders as bigint) as orders,
        cast(current_rank as integer) as rank,
        previous_revenue,
        cast(case when sold_before then before_rank end as integer) as previous_rank,
        cast(case when sold_before then before_rank - current_rank end as integer) as rank_change,
        round(100 * (revenue - previous_revenue) / nullif(previous_revenue, 0), 2) as revenue_change_pct,
        inputs_fingerprint
    from ranked
    where sold_in_window

)

select * from final
