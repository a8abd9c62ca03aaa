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

-- The 20 products with the highest revenue over the 4, 12, 24 and 52 weeks that end at the run's
-- data_interval_end (exclusive), as known at the run; a tie goes to the smaller product id. A build also
-- remakes later dates whose inputs changed (see macros/as_of_builds.sql).
with

as_of as (

    select * from {{ as_of_builds() }}

),

known_sales as (

    select * from {{ ref('int_electronics__sales_by_partition') }}
    where grain = 'product'

),

windows as (

    select
        as_of.as_of_date,
        as_of.inputs_fingerprint,
        as_of.period_end,
        weeks as window_weeks,
        as_of.period_end - 7 * weeks as current_start
    from as_of
    cross join unnest(array[4, 12, 24, 52]) as weeks

),

product_windows as (

    select
        windows.as_of_date,
        windows.inputs_fingerprint,
        windows.window_weeks,
        known_sales.product_id,
        max(known_sales.category_id) as category_id,
        max(known_sales.category_code) as category_code,
        max(known_sales.brand) as brand,
        sum(known_sales.revenue) as revenue,
        sum(known_sales.units) as units,
        sum(known_sales.orders) as orders
    from windows
    inner join known_sales
        on
            windows.as_of_date >= known_sales.partition_date
            and windows.current_start <= known_sales.sale_date
            and windows.period_end > known_sales.sale_date
    group by windows.as_of_date, windows.inputs_fingerprint, windows.window_weeks, known_sales.product_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by as_of_date, window_weeks order by revenue desc, product_id asc
        ) as revenue_rank
    from product_windows

),

final as (

    select
        as_of_date,
        window_weeks,
        cast(revenue_rank as integer) as rank,
        product_id,
        category_id,
        category_code,
        brand,
        revenue,
        cast(units as bigint) as units,
        cast(orders as bigint) as orders,
        inputs_fingerprint
    from ranked
    where revenue_rank <= 20

)

select * from final
