{{ config(materialized='view') }}

-- The rows of the latest as_of_date of store_activity_daily; the as_of_date index finds the date and its rows
with

history as (

    select * from {{ ref('store_activity_daily') }}

),

latest as (

    select max(as_of_date) as as_of_date from {{ ref('store_activity_daily') }}

),

final as (

    select
        history.as_of_date,
        history.activity_date,
        history.active_stores,
        history.new_stores,
        history.reactivated_stores,
        history.lost_stores,
        history.cancelled,
        history.closed,
        history.unknown  -- noqa: RF04
    from history
    inner join latest on history.as_of_date = latest.as_of_date

)

select * from final
