{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('order_date') }}",
        indexes=[{'columns': ['order_date', 'city_code', 'district_code'], 'unique': true}],
    )
}}

with

orders as (

    select * from {{ ref('int_store_orders__orders') }}
    where {{ store_orders_run_day_only('order_date') }}

),

districts as (

    select * from {{ ref('int_store_orders__districts') }}

),

district_sales as (

    select
        order_date,
        city_code,
        district_code,
        count(*) as orders,
        sum(amount_rmb) as revenue_rmb
    from orders
    group by order_date, city_code, district_code

),

final as (

    select
        district_sales.order_date,
        district_sales.city_code,
        district_sales.district_code,
        coalesce(districts.district_en, 'Unknown') as district_en,
        district_sales.orders,
        district_sales.revenue_rmb
    from district_sales
    left join districts
        on
            district_sales.city_code = districts.city_code
            and district_sales.district_code = districts.district_code

)

select * from final
