with

passed as (

    {{ passed_rows('thelook', 'order_items') }}

),

final as (

    select
        {{ safe_cast('id', 'bigint') }} as order_item_id,
        {{ safe_cast('order_id', 'bigint') }} as order_id,
        {{ safe_cast('user_id', 'bigint') }} as user_id,
        {{ safe_cast('product_id', 'bigint') }} as product_id,
        {{ safe_cast('inventory_item_id', 'bigint') }} as inventory_item_id,
        {{ clean_text('status') }} as status,
        {{ safe_utc_timestamp('created_at') }} as created_at,
        {{ safe_utc_timestamp('shipped_at') }} as shipped_at,
        {{ safe_utc_timestamp('delivered_at') }} as delivered_at,
        {{ safe_utc_timestamp('returned_at') }} as returned_at,
        {{ safe_money('sale_price') }} as sale_price,
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row
    from passed

)

select * from final
