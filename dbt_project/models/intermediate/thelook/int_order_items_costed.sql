with

order_items as (

    select * from {{ ref('stg_thelook__order_items') }}

),

inventory_items as (

    select
        inventory_item_id,
        unit_cost
    from {{ ref('stg_thelook__inventory_items') }}

),

products as (

    select
        product_id,
        unit_cost
    from {{ ref('stg_thelook__products') }}

),

costed as (

    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.user_id,
        order_items.product_id,
        order_items.status,
        order_items.created_at,
        order_items.returned_at,
        order_items.sale_price,
        order_items.partition_date,
        coalesce(inventory_items.unit_cost, products.unit_cost) as unit_cost
    from order_items
    left join inventory_items
        on order_items.inventory_item_id = inventory_items.inventory_item_id
    left join products
        on order_items.product_id = products.product_id

),

final as (

    select
        order_item_id,
        order_id,
        user_id,
        product_id,
        status,
        created_at,
        returned_at,
        sale_price,
        unit_cost,
        sale_price - unit_cost as margin,
        -- the source has no cancellation time: a Cancelled row keeps the partition it was first seen in
        case when status = 'Cancelled' then partition_date end as cancelled_seen_on
    from costed

)

select * from final
