{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('order_date') }}",
        indexes=[{'columns': ['order_date', 'city_code'], 'unique': true}],
    )
}}

-- The day's revenue per city, read by elt.tiers.tier_cities (the sales tiers) between the dbt builds
with

orders as (

    select * from {{ ref('int_store_orders__orders') }}
    where {{ store_orders_run_day_only('order_date') }}

),

final as (

    select
        order_date,
        city_code,
        count(*) as orders,
        sum(amount_rmb) as revenue_rmb
    from orders
    group by order_date, city_code

)

select * from final
