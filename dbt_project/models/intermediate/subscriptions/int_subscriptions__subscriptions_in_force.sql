{{ config(materialized='ephemeral') }}

-- Subscription periods as known at the run, with the UTC days each is in force: a store's periods, ordered by
-- start, are each in force from their start day until the day before the next one starts, or their own last day
-- (D while open), whichever is first; so a store counts at most once a day. Ephemeral: its one reader,
-- subscription_revenue_daily, reads it once; a table would write and index the snapshot's millions of periods again.
with

periods as (

    select * from {{ ref('stg_subscriptions__subscription_periods') }}
    where partition_date = {{ run_date() }}

),

known as (

    -- a period starting at or after D+1 00:00 UTC is unknown to the run; one without toDate, or ending at or after
    -- D+1 00:00 UTC, is open and runs to the end of D
    select
        store_id,
        source_file,
        source_row,
        period_index,
        plan_name,
        price,
        from_at,
        {{ utc_day('from_at') }} as start_day,
        to_at is null or to_at >= {{ subscriptions_known_before() }} as is_open,
        case
            when to_at is null or to_at >= {{ subscriptions_known_before() }} then {{ run_date() }}
            else greatest({{ utc_day('to_at') }}, {{ utc_day('from_at') }})
        end as last_day
    from periods
    where from_at < {{ subscriptions_known_before() }}

),

ordered as (

    -- a store's periods are those of its row in the snapshot (source_row, source_file: one row per store, store_id
    -- being unique in a snapshot, rule store_id_unique): sorting by integers is several times faster than by text
    select
        *,
        lead(start_day) over (
            partition by source_row, source_file order by from_at, period_index
        ) as next_start_day
    from known

),

final as (

    select
        {{ run_date() }} as as_of_date,
        store_id,
        period_index,
        plan_name,
        price,
        start_day,
        last_day,
        is_open,
        next_start_day,
        -- least() skips the null of a store's last period
        least(last_day, next_start_day - 1) as in_force_until,
        greatest(least(last_day, next_start_day - 1) - start_day + 1, 0) as days_in_force
    from ordered

)

select * from final
