{{ config(materialized='view') }}

-- The rows of the latest as_of_date of branch_performance; the as_of_date index finds the date and its rows
with

history as (

    select * from {{ ref('branch_performance') }}

),

latest as (

    select max(as_of_date) as as_of_date from {{ ref('branch_performance') }}

),

final as (

    select
        history.as_of_date,
        history.branch_id,
        history.branch_name,
        history.branch_names,
        history.revenue,
        history.transactions,
        history.customers,
        history.products,
        history.completed_share
    from history
    inner join latest on history.as_of_date = latest.as_of_date

)

select * from final
