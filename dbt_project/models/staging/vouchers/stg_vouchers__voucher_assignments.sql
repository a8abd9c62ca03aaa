{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('partition_date') }}",
        indexes=[{'columns': ['partition_date']}],
    )
}}

with

raw_assignments as (

    select * from {{ source('raw_vouchers', 'voucher_assignments') }}
    {% if is_incremental() %}
        where _partition_date = {{ run_date() }}
    {% endif %}

),

dq_exceptions as (

    select * from {{ source('audit', 'dq_exceptions') }}

),

quarantined as (

    select
        source_file,
        source_row
    from dq_exceptions
    where
        source = 'vouchers'
        and table_name = 'voucher_assignments'
        and severity = 'error'

),

passed as (

    select raw_assignments.*
    from raw_assignments
    where not exists (
        select 1
        from quarantined
        where
            quarantined.source_file = raw_assignments._source_file
            and quarantined.source_row = raw_assignments._source_row
    )

),

final as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ safe_timestamp('"timestamp"') }} as assigned_at,
        nullif(btrim(country_code), '') as country_code,
        {{ safe_timestamp('last_order_ts') }} as last_order_at,
        {{ safe_date('last_order_ts') }} as last_order_date,
        {{ safe_timestamp('first_order_ts') }} as first_order_at,
        {{ safe_integer('total_orders') }} as total_orders,
        trim_scale({{ safe_numeric('voucher_amount') }}) as voucher_amount
    from passed

)

select * from final
