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

-- Every subscription period of the run's snapshot: each store's subscriptionhistory cell parsed once (jsonb), its
-- array unnested set-based. Every run reads and replaces its own partition only. Unlogged and analyzed, like
-- stg_subscriptions__install_periods.
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
        {{ subscriptions_json_array('subscriptionhistory') }} as history
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
        elements.period -> 'price' as price_json,
        elements.period ->> 'planName' as plan_name,
        elements.period ->> 'billingOnDate' as billing_on_text
    from histories
    cross join lateral jsonb_array_elements(histories.history) with ordinality as elements (period, period_index)
    -- a fence: each value is taken out of its period once, though the safe casts below read it three times
    offset 0  -- noqa: AM09

),

final as (

    select
        partition_date,
        store_id,
        period_index,
        {{ subscriptions_json_timestamptz('from_text', 'stores') }} as from_at,
        {{ subscriptions_json_timestamptz('to_text', 'stores') }} as to_at,
        -- a JSON number is held as a numeric already: no text to parse
        case jsonb_typeof(price_json) when 'number' then cast(price_json as numeric) end as price,
        nullif(plan_name, '') as plan_name,
        {{ subscriptions_json_timestamptz('billing_on_text', 'stores') }} as billing_on_at,
        source_file,
        source_row
    from period_values

)

select * from final
