{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ delete_partition('as_of_date') }}",
        indexes=[{'columns': ['as_of_date', 'activity_date'], 'unique': true}],
    )
}}

-- Active, new, reactivated and lost stores per UTC day, as known at the run, from one pass over the spells: the day
-- totals of the spells starting (+1 installed; new or reactivated), of those ending (lost, by end type) and of the day
-- after those ended (-1 installed), in one grouping-sets aggregate; running sums of the day's changes over the days
-- give the stores installed. No spell is exploded into days.
with

spells as (

    select
        *,
        case when not is_open then last_day end as lost_day,
        case when not is_open and last_day < {{ run_date() }} then last_day + 1 end as uninstalled_day
    from {{ ref('int_subscriptions__install_spells') }}
    where as_of_date = {{ run_date() }}

),

day_totals as (

    select
        first_day,
        lost_day,
        uninstalled_day,
        grouping(first_day) = 0 as is_start_total,
        grouping(lost_day) = 0 as is_lost_total,
        count(*) as spells,
        count(*) filter (where is_first_spell) as first_spells,
        count(*) filter (where end_type = 'cancelled') as cancelled,
        count(*) filter (where end_type = 'closed') as closed,
        count(*) filter (where end_type = 'unknown') as unknown  -- noqa: RF04
    from spells
    group by grouping sets ((first_day), (lost_day), (uninstalled_day))

),

changes as (

    select
        activity_date,
        sum(active_change) as active_change,
        sum(new_stores) as new_stores,
        sum(reactivated_stores) as reactivated_stores,
        sum(lost_stores) as lost_stores,
        sum(cancelled) as cancelled,
        sum(closed) as closed,
        sum(unknown) as unknown  -- noqa: RF04
    from (
        select
            first_day as activity_date,
            spells as active_change,
            first_spells as new_stores,
            spells - first_spells as reactivated_stores,
            0 as lost_stores,
            0 as cancelled,
            0 as closed,
            0 as unknown  -- noqa: RF04
        from day_totals
        where is_start_total

        union all

        select
            lost_day as activity_date,
            0 as active_change,
            0 as new_stores,
            0 as reactivated_stores,
            spells as lost_stores,
            cancelled,
            closed,
            unknown  -- noqa: RF04
        from day_totals
        where is_lost_total and lost_day is not null

        union all

        select
            uninstalled_day as activity_date,
            -spells as active_change,
            0 as new_stores,
            0 as reactivated_stores,
            0 as lost_stores,
            0 as cancelled,
            0 as closed,
            0 as unknown  -- noqa: RF04
        from day_totals
        where not is_start_total and not is_lost_total and uninstalled_day is not null
    ) as day_changes
    group by activity_date

),

calendar as (

    -- from the snapshot's first install day to D
    select cast(calendar_day as date) as activity_date
    from
        generate_series(
            (select min(activity_date) from changes), {{ run_date() }}, interval '1 day'
        ) as calendar_days (calendar_day)

),

final as (

    select
        {{ run_date() }} as as_of_date,
        calendar.activity_date,
        cast(
            coalesce(sum(changes.active_change) over (order by calendar.activity_date rows unbounded preceding), 0)
            as integer
        ) as active_stores,
        cast(coalesce(changes.new_stores, 0) as integer) as new_stores,
        cast(coalesce(changes.reactivated_stores, 0) as integer) as reactivated_stores,
        cast(coalesce(changes.lost_stores, 0) as integer) as lost_stores,
        cast(coalesce(changes.cancelled, 0) as integer) as cancelled,
        cast(coalesce(changes.closed, 0) as integer) as closed,
        cast(coalesce(changes.unknown, 0) as integer) as unknown  -- noqa: RF04
    from calendar
    left join changes on calendar.activity_date = changes.activity_date

)

select * from final
