{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('order_date') }}",
        indexes=[{'columns': ['order_date']}],
    )
}}

-- Built after elt.tiers.tier_cities has tiered the day's cities (store_orders_daily: tag store_orders_marts).
-- A row per tier and one with tier null for the unknown location (never tiered): the shares add up to the day.
with

city_revenue as (

    select * from {{ ref('int_store_orders__city_revenue') }}
    where {{ store_orders_run_day_only('order_date') }}

),

sales_tiers as (

    select * from {{ source('store_orders_steps', 'store_city_sales_tiers') }}
    where {{ store_orders_run_day_only('order_date') }}

),

tiered as (

    select
        city_revenue.order_date,
        sales_tiers.sales_tier as tier,
        city_revenue.city_code,
        city_revenue.revenue_rmb,
        sum(city_revenue.revenue_rmb) over (partition by city_revenue.order_date) as day_revenue_rmb
    from city_revenue
    left join sales_tiers
        on
            city_revenue.order_date = sales_tiers.order_date
            and city_revenue.city_code = sales_tiers.city_code

),

final as (

    select
        order_date,
        tier,
        count(*) filter (where city_code <> 'unknown') as cities,
        min(revenue_rmb) filter (where city_code <> 'unknown') as min_revenue,
        max(revenue_rmb) filter (where city_code <> 'unknown') as max_revenue,
        round(sum(revenue_rmb) / nullif(max(day_revenue_rmb), 0), 4) as revenue_share
    from tiered
    group by order_date, tier

)

select * from final
