with

passed as (

    {{ passed_rows('thelook', 'orders') }}

),

final as (

    select
        {{ safe_cast('order_id', 'bigint') }} as order_id,
        {{ safe_cast('user_id', 'bigint') }} as user_id,
        {{ clean_text('status') }} as status,
        {{ clean_text('gender') }} as gender,
        {{ safe_utc_timestamp('created_at') }} as created_at,
        {{ safe_utc_timestamp('shipped_at') }} as shipped_at,
        {{ safe_utc_timestamp('delivered_at') }} as delivered_at,
        {{ safe_utc_timestamp('returned_at') }} as returned_at,
        {{ safe_integer('num_of_item') }} as num_of_item,
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row
    from passed

)

select * from final
