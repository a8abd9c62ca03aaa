{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('order_date') }}",
        indexes=[{'columns': ['order_date', 'city_code'], 'unique': true}],
    )
}}

-- Built after elt.tiers.tier_cities has tiered the day's cities (store_orders_daily: tag store_orders_marts)
with

orders as (

    select * from {{ ref('int_store_orders__orders') }}
    where {{ store_orders_run_day_only('order_date') }}

),

cities as (

    select * from {{ ref('china_cities') }}

),

official_tiers as (

    select * from {{ ref('city_tiers') }}

),

sales_tiers as (

    select * from {{ source('store_orders_steps', 'store_city_sales_tiers') }}
    where {{ store_orders_run_day_only('order_date') }}

),

city_sales as (

    select
        order_date,
        city_code,
        count(distinct district_code) filter (where district_code <> 'unknown') as districts,
        sum(amount_rmb) as revenue_rmb,
        sum(amount_rmb) filter (where district_code <> 'unknown') as known_district_revenue_rmb,
        count(*) as orders
    from orders
    group by order_date, city_code

),

final as (

    select
        city_sales.order_date,
        city_sales.city_code,
        coalesce(cities.city_en, 'Unknown') as city_en,
        cities.province_en,
        city_sales.districts,
        city_sales.revenue_rmb,
        round(city_sales.known_district_revenue_rmb / nullif(city_sales.districts, 0), 2)
            as avg_revenue_per_district,
        city_sales.orders,
        round(city_sales.revenue_rmb / city_sales.orders, 2) as avg_order_value,
        sales_tiers.sales_tier,
        official_tiers.official_tier
    from city_sales
    left join cities on city_sales.city_code = cities.city_code
    left join sales_tiers
        on
            city_sales.order_date = sales_tiers.order_date
            and city_sales.city_code = sales_tiers.city_code
    left join official_tiers on city_sales.city_code = official_tiers.city_code

)

select * from final
