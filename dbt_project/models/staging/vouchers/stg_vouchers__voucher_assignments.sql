{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('partition_date') }}",
        post_hook="analyze {{ this }}",
        indexes=[{'columns': ['partition_date']}],
    )
}}

-- an incremental run reads only its own partition. analyze (post-hook): the new rows' statistics at once, for the
-- counts made from them next (planned without statistics, the counts of a million new rows took twice as long)
{%- set this_partition_only = ('raw._partition_date = ' ~ run_date()) if is_incremental() else none %}

with

passed as (

    {{ passed_rows('vouchers', 'voucher_assignments', where=this_partition_only) }}

),

typed as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ safe_timestamp('"timestamp"') }} as assigned_at,
        nullif(btrim(country_code), '') as country_code,
        {{ safe_timestamp('last_order_ts') }} as last_order_at,
        {{ safe_timestamp('first_order_ts') }} as first_order_at,
        {{ safe_integer('total_orders') }} as total_orders,
        trim_scale({{ safe_numeric('voucher_amount') }}) as voucher_amount
    from passed

),

final as (

    -- the date from the parsed timestamp: parsing a timestamp costs more than the rest of the row
    select
        partition_date,
        source_file,
        source_row,
        batch_id,
        assigned_at,
        country_code,
        last_order_at,
        cast(last_order_at as date) as last_order_date,
        first_order_at,
        total_orders,
        voucher_amount
    from typed

)

select * from final
