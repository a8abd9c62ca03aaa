{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        unlogged=true,
        pre_hook="{{ delete_partition('partition_date') }}",
        post_hook="analyze {{ this }}",
        indexes=[{'columns': ['partition_date']}],
    )
}}

-- Every install period of the run's snapshot: each store's installhistory cell parsed once (jsonb), its array
-- unnested set-based. Every run reads and replaces its own partition only (a snapshot is the whole history as known
-- that day). Unlogged: no WAL for millions of rows a day; after a crash Postgres empties it, and the next run of a
-- date makes that date's partition again (marts never read another date's partition). analyze (post-hook): the new
-- rows' statistics at once, as the plans of their readers (hash or sort) depend on them.
with

stores as (

    {{ passed_rows('subscriptions', 'stores', where='raw._partition_date = ' ~ run_date()) }}

),

histories as (

    select
        _partition_date as partition_date,
        btrim(store_id) as store_id,
        _source_file as source_file,
        _source_row as source_row,
        {{ subscriptions_json_array('installhistory') }} as history
    from stores

),

period_values as (

    select
        histories.partition_date,
        histories.store_id,
        histories.source_file,
        histories.source_row,
        cast(elements.period_index as integer) as period_index,
        elements.period ->> 'fromDate' as from_text,
        elements.period ->> 'toDate' as to_text,
        elements.period -> 'toNow' as to_now_json,
        elements.period ->> 'startType' as start_type,
        elements.period ->> 'endType' as end_type
    from histories
    cross join lateral jsonb_array_elements(histories.history) with ordinality as elements (period, period_index)
    -- a fence (the query is not flattened into the next step): each value is taken out of its period once, though
    -- the safe casts below read it three times
    offset 0  -- noqa: AM09

),

final as (

    select
        partition_date,
        store_id,
        period_index,
        {{ subscriptions_json_timestamptz('from_text', 'stores') }} as from_at,
        {{ subscriptions_json_timestamptz('to_text', 'stores') }} as to_at,
        case jsonb_typeof(to_now_json) when 'boolean' then cast(to_now_json as boolean) end as to_now,
        nullif(start_type, '') as start_type,
        nullif(end_type, '') as end_type,
        source_file,
        source_row
    from period_values

)

select * from final
