{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('order_date') }}",
        indexes=[{'columns': ['order_date', 'hour_china'], 'unique': true}],
    )
}}

-- One row per China hour of the day with orders: the city that sold most in it (known cities only; the unknown
-- location counts in the hour's totals), and is_best_of_day on the day's best city-hour pair
with

orders as (

    select * from {{ ref('int_store_orders__orders') }}
    where {{ store_orders_run_day_only('order_date') }}

),

cities as (

    select * from {{ ref('china_cities') }}

),

city_hours as (

    select
        order_date,
        hour_china,
        city_code,
        count(*) as orders,
        sum(amount_rmb) as revenue_rmb
    from orders
    group by order_date, hour_china, city_code

),

hours as (

    select
        order_date,
        hour_china,
        count(*) as hour_orders,
        sum(amount_rmb) as hour_revenue_rmb
    from orders
    group by order_date, hour_china

),

ranked as (

    select
        *,
        row_number() over (
            partition by order_date, hour_china
            order by revenue_rmb desc, city_code asc
        ) as rank_in_hour
    from city_hours
    where city_code <> 'unknown'

),

top_cities as (

    select * from ranked
    where rank_in_hour = 1

),

hours_with_top as (

    select
        hours.order_date,
        hours.hour_china,
        top_cities.city_code,
        top_cities.orders,
        top_cities.revenue_rmb,
        hours.hour_orders,
        hours.hour_revenue_rmb,
        row_number() over (
            partition by hours.order_date
            order by top_cities.revenue_rmb desc nulls last, hours.hour_china asc
        ) as rank_in_day
    from hours
    left join top_cities
        on
            hours.order_date = top_cities.order_date
            and hours.hour_china = top_cities.hour_china

),

final as (

    select
        hours_with_top.order_date,
        hours_with_top.hour_china,
        hours_with_top.city_code,
        cities.city_en,
        cities.city_zh,
        cities.province_en,
        hours_with_top.orders,
        hours_with_top.revenue_rmb,
        hours_with_top.hour_orders,
        hours_with_top.hour_revenue_rmb,
        round(hours_with_top.revenue_rmb / nullif(hours_with_top.hour_revenue_rmb, 0), 4) as revenue_share,
        hours_with_top.city_code is not null and hours_with_top.rank_in_day = 1 as is_best_of_day
    from hours_with_top
    left join cities on hours_with_top.city_code = cities.city_code

)

select * from final
