{{ config(materialized='view') }}

with

monthly as (

    select * from {{ ref('int_electronics__sales_monthly') }}

),

final as (

    select
        monthly.month,
        monthly.revenue,
        monthly.orders,
        monthly.units,
        monthly.customers,
        round(monthly.revenue / nullif(monthly.orders, 0), 2) as avg_order_value,
        round(100 * (monthly.revenue - previous.revenue) / nullif(previous.revenue, 0), 2) as revenue_change_pct
    from monthly
    left join monthly as previous
        on previous.month = cast(monthly.month - interval '1 month' as date)

)

select * from final
