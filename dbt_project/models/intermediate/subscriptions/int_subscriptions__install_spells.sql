{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_partition('as_of_date') }}",
            "set local work_mem = '256MB'",
        ],
        post_hook="analyze {{ this }}",
        indexes=[{'columns': ['as_of_date', 'store_id', 'spell_number'], 'unique': true}],
    )
}}

-- Install spells as known at the run: each store's install periods of the run's snapshot, as UTC days, merged when
-- they overlap or touch (gaps and islands). One row per spell; no period is exploded into days. work_mem (for this
-- build's transaction only): the millions of periods of a snapshot are sorted in memory, not in temporary files.
-- analyze (post-hook): the new rows' statistics at once, as the plans of the marts reading them depend on them.
with

periods as (

    select * from {{ ref('stg_subscriptions__install_periods') }}
    where partition_date = {{ run_date() }}

),

known as (

    -- a period starting at or after D+1 00:00 UTC is unknown to the run; one that is open (toNow, or no toDate) or
    -- ends at or after D+1 00:00 UTC is open on D and runs to the end of D
    select
        store_id,
        source_file,
        source_row,
        period_index,
        to_at,
        end_type,
        {{ utc_day('from_at') }} as from_day,
        coalesce(to_now, false) or to_at is null or to_at >= {{ subscriptions_known_before() }} as is_open
    from periods
    where from_at < {{ subscriptions_known_before() }}

),

days as (

    select
        *,
        case when is_open then {{ run_date() }} else greatest({{ utc_day('to_at') }}, from_day) end as to_day
    from known

),

reached as (

    -- the last day the store's earlier periods (by start) reach. A store's periods are those of its row in the
    -- snapshot (source_row, source_file: one row per store, store_id being unique in a snapshot, rule
    -- store_id_unique): sorting by integers is several times faster than by text
    select
        *,
        max(to_day) over (
            partition by source_row, source_file order by from_day, to_day, period_index
            rows between unbounded preceding and 1 preceding
        ) as reached_day
    from days

),

numbered as (

    -- a period starts a new spell when it starts after the day following the last day reached so far
    select
        *,
        count(*) filter (where reached_day is null or from_day > reached_day + 1) over (
            partition by source_row, source_file order by from_day, to_day, period_index
            rows unbounded preceding
        ) as spell_number,
        count(*) filter (where reached_day is null or from_day > reached_day + 1) over (
            partition by source_row, source_file
        ) as store_spells
    from reached

),

spells as (

    select
        source_row,
        source_file,
        spell_number,
        any_value(store_id) as store_id,
        any_value(store_spells) as store_spells,
        min(from_day) as first_day,
        max(to_day) as last_day,
        count(*) as install_periods,
        bool_or(is_open) as is_open,
        -- the endType of the period ending last in the spell (ties: the later in the array)
        (array_agg(end_type order by to_at desc, period_index desc))[1] as last_end_type
    from numbered
    group by source_row, source_file, spell_number

),

final as (

    select
        {{ run_date() }} as as_of_date,
        store_id,
        cast(spell_number as integer) as spell_number,
        first_day,
        last_day,
        last_day - first_day + 1 as spell_days,
        cast(install_periods as integer) as install_periods,
        is_open,
        spell_number = 1 as is_first_spell,
        spell_number = store_spells as is_last_spell,
        case
            when is_open then null
            when last_end_type = 'CUSTOMER_CANCELLED' then 'cancelled'
            when last_end_type = 'CUSTOMER_CLOSED' then 'closed'
            else 'unknown'
        end as end_type
    from spells

)

select * from final
