{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('partition_date') }}",
        indexes=[{'columns': ['partition_date']}, {'columns': ['sale_date']}],
    )
}}

-- depends_on: {{ ref('int_electronics__partition_sale_dates') }} (records this partition's old dates first)
{%- set this_partition_only = ('partition_date = ' ~ run_date()) if is_incremental() else 'true' %}

with

purchases as (

    select * from {{ ref('stg_electronics__purchases') }}

),

final as (

    select
        partition_date,
        source_file,
        source_row,
        batch_id,
        event_at,
        cast({{ electronics_local_time('event_at') }} as date) as sale_date,
        cast(extract(hour from {{ electronics_local_time('event_at') }}) as integer) as sale_hour,
        order_id,
        product_id,
        category_id,
        category_code,
        brand,
        price,
        user_id
    from purchases
    where {{ this_partition_only }}

)

select * from final
