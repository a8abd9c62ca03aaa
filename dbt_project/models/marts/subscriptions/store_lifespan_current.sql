{{ config(materialized='view') }}

-- The rows of the latest as_of_date of store_lifespan; the as_of_date index finds the date and its rows
with

history as (

    select * from {{ ref('store_lifespan') }}

),

latest as (

    select max(as_of_date) as as_of_date from {{ ref('store_lifespan') }}

),

final as (

    select
        history.as_of_date,
        history.store_id,
        history.first_install_date,
        history.last_installed_date,
        history.lifespan_days,
        history.installed_days,
        history.install_periods,
        history.spells,
        history.is_installed,
        history.last_end_type
    from history
    inner join latest on history.as_of_date = latest.as_of_date

)

select * from final
