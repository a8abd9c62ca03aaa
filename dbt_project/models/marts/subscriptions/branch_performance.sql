{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ delete_partition('as_of_date') }}",
        indexes=[{'columns': ['as_of_date', 'branch_id'], 'unique': true}],
    )
}}

-- Each branch's transactions of the run's snapshot ordered before D+1 00:00 UTC
with

transactions as (

    select * from {{ ref('stg_subscriptions__transactions') }}
    where
        partition_date = {{ run_date() }}
        and order_at < {{ subscriptions_known_before() }}

),

name_counts as (

    select
        branch_id,
        branch_name,
        count(*) as name_transactions
    from transactions
    where branch_name is not null
    group by branch_id, branch_name

),

chosen_names as (

    -- the most frequent name (ties: the smallest), and how many names the branch goes by
    select
        branch_id,
        (array_agg(branch_name order by name_transactions desc, branch_name asc))[1] as branch_name,
        count(*) as branch_names
    from name_counts
    group by branch_id

),

branches as (

    select
        branch_id,
        coalesce(sum(total_amount) filter (where is_completed), 0) as revenue,
        count(*) as transactions,  -- noqa: RF04
        count(*) filter (where is_completed) as completed_transactions,
        count(distinct customer_id) as customers,
        count(distinct product_id) as products
    from transactions
    group by branch_id

),

final as (

    select
        {{ run_date() }} as as_of_date,
        branches.branch_id,
        chosen_names.branch_name,
        cast(coalesce(chosen_names.branch_names, 0) as integer) as branch_names,
        branches.revenue,
        cast(branches.transactions as integer) as transactions,  -- noqa: RF04
        cast(branches.customers as integer) as customers,
        cast(branches.products as integer) as products,
        round(branches.completed_transactions / cast(branches.transactions as numeric), 4) as completed_share
    from branches
    left join chosen_names on branches.branch_id = chosen_names.branch_id

)

select * from final
