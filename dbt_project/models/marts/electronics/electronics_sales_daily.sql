{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_dates('sale_date') }}",
        indexes=[{'columns': ['sale_date'], 'unique': true}],
    )
}}

-- depends_on: {{ ref('int_electronics__partition_sale_dates') }} (the sale dates to rebuild)
-- Rebuilt only for the sale dates the run's partition touches, from every partition's lines.

with

order_lines as (

    select * from {{ ref('electronics_order_lines') }}
    where {{ electronics_rebuilt_only() }}

),

daily as (

    select
        sale_date,
        coalesce(sum(price), 0) as revenue,
        count(distinct order_id) as orders,
        count(*) as units,
        count(distinct user_id) as customers
    from order_lines
    group by sale_date

),

final as (

    select
        sale_date,
        revenue,
        orders,
        units,
        customers,
        round(revenue / nullif(orders, 0), 2) as avg_order_value
    from daily

)

select * from final
