{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('order_date') }}",
        indexes=[{'columns': ['order_date', 'city_code', 'hour_pacific', 'hour_china'], 'unique': true}],
    )
}}

with

orders as (

    select * from {{ ref('int_store_orders__orders') }}
    where {{ store_orders_run_day_only('order_date') }}

),

cities as (

    select * from {{ ref('china_cities') }}

),

hourly as (

    select
        order_date,
        city_code,
        hour_pacific,
        hour_china,
        count(*) as orders,
        coalesce(sum(units), 0) as units,
        sum(amount_rmb) as revenue_rmb
    from orders
    group by order_date, city_code, hour_pacific, hour_china

),

final as (

    select
        hourly.order_date,
        hourly.city_code,
        coalesce(cities.city_en, 'Unknown') as city_en,
        cities.city_zh,
        cities.province_en,
        hourly.hour_pacific,
        hourly.hour_china,
        hourly.orders,
        hourly.units,
        hourly.revenue_rmb
    from hourly
    left join cities on hourly.city_code = cities.city_code

)

select * from final
