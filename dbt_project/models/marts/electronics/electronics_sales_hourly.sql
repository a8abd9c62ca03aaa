{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_dates('sale_date') }}",
        indexes=[{'columns': ['sale_date', 'hour'], 'unique': true}],
    )
}}

-- depends_on: {{ ref('int_electronics__partition_sale_dates') }} (the sale dates to rebuild)
-- Rebuilt only for the sale dates the run's partition touches, from every partition's lines.

with

order_lines as (

    select * from {{ ref('electronics_order_lines') }}
    where {{ electronics_rebuilt_only() }}

),

final as (

    select
        sale_date,
        sale_hour as hour,  -- noqa: RF04
        coalesce(sum(price), 0) as revenue,
        count(distinct order_id) as orders
    from order_lines
    group by sale_date, sale_hour

)

select * from final
