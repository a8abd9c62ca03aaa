{{ config(materialized='view') }}

-- The rows of the latest as_of_date of subscription_revenue_daily; the as_of_date index finds the date and its rows
with

history as (

    select * from {{ ref('subscription_revenue_daily') }}

),

latest as (

    select max(as_of_date) as as_of_date from {{ ref('subscription_revenue_daily') }}

),

final as (

    select
        history.as_of_date,
        history.revenue_date,
        history.new_subscriptions,
        history.booked_revenue,
        history.active_subscriptions,
        history.monthly_recurring_revenue
    from history
    inner join latest on history.as_of_date = latest.as_of_date

)

select * from final
