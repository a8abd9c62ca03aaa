{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook=[
            "{{ delete_partition('as_of_date') }}",
            "set local work_mem = '256MB'",
        ],
        indexes=[{'columns': ['as_of_date', 'revenue_date'], 'unique': true}],
    )
}}

-- Booked revenue and monthly recurring revenue per UTC day, as known at the run, from one pass over the snapshot's
-- subscription periods: the day totals of the periods starting (booked; in force from that day, if ever) and of those
-- leaving force (the day after their last day in force), in one grouping-sets aggregate; running sums of the day's
-- changes over the days give the subscriptions in force. No period is exploded into days. work_mem (this build's
-- transaction only): the periods are sorted by store in memory.
with

subscriptions as (

    select
        *,
        case
            when days_in_force > 0 and in_force_until < {{ run_date() }} then in_force_until + 1
        end as out_of_force_day
    from {{ ref('int_subscriptions__subscriptions_in_force') }}

),

day_totals as (

    select
        start_day,
        out_of_force_day,
        grouping(start_day) = 0 as is_start_total,
        count(*) as periods,
        sum(price) as price_sum,
        count(*) filter (where days_in_force > 0) as periods_in_force,
        coalesce(sum(price) filter (where days_in_force > 0), 0) as price_in_force
    from subscriptions
    group by grouping sets ((start_day), (out_of_force_day))

),

changes as (

    select
        revenue_date,
        sum(new_subscriptions) as new_subscriptions,
        sum(booked_revenue) as booked_revenue,
        sum(active_change) as active_change,
        sum(revenue_change) as revenue_change
    from (
        select
            start_day as revenue_date,
            periods as new_subscriptions,
            price_sum as booked_revenue,
            periods_in_force as active_change,
            price_in_force as revenue_change
        from day_totals
        where is_start_total

        union all

        select
            out_of_force_day as revenue_date,
            0 as new_subscriptions,
            0 as booked_revenue,
            -periods as active_change,
            -price_sum as revenue_change
        from day_totals
        where not is_start_total and out_of_force_day is not null
    ) as day_changes
    group by revenue_date

),

calendar as (

    -- from the first subscription day to D
    select cast(calendar_day as date) as revenue_date
    from
        generate_series(
            (select min(revenue_date) from changes), {{ run_date() }}, interval '1 day'
        ) as calendar_days (calendar_day)

),

final as (

    select
        {{ run_date() }} as as_of_date,
        calendar.revenue_date,
        cast(coalesce(changes.new_subscriptions, 0) as integer) as new_subscriptions,
        coalesce(changes.booked_revenue, 0) as booked_revenue,
        cast(
            coalesce(sum(changes.active_change) over (order by calendar.revenue_date rows unbounded preceding), 0)
            as integer
        ) as active_subscriptions,
        coalesce(sum(changes.revenue_change) over (order by calendar.revenue_date rows unbounded preceding), 0)
            as monthly_recurring_revenue
    from calendar
    left join changes on calendar.revenue_date = changes.revenue_date

)

select * from final
