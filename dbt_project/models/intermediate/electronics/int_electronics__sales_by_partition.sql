{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=[
            "{{ delete_rebuilt_dates('sale_date') }}",
            "set local work_mem = '64MB'",
        ],
        indexes=[{'columns': ['grain', 'sale_date']}],
    )
}}

-- depends_on: {{ ref('int_electronics__partition_sale_dates') }} (the sale dates to rebuild)
-- Sales per sale date and loading partition, at three grains (the day's total, each brand, each product),
-- so that a run's as-of marts sum what was known at its date (partition_date <= as_of_date) without
-- rescanning order lines. An order is counted in the first partition that brought a line of it for
-- that sale date (and brand, or product): summed over partitions, orders are distinct orders. The
-- 'total' rows carry the hash of the files their partition was loaded from (the as-of marts' fingerprints).

with

order_lines as (

    select * from {{ ref('electronics_order_lines') }}
    where {{ electronics_rebuilt_only() }}

),

batch_files as (

    select
        batch_id,
        md5(string_agg(file_sha256, ',' order by file_sha256)) as files_fingerprint
    from {{ source('audit', 'load_log') }}
    where source = 'electronics' and table_name = 'purchases' and status = 'loaded'
    group by batch_id

),

first_seen as (

    select
        sale_date,
        partition_date,
        batch_id,
        order_id,
        product_id,
        category_id,
        category_code,
        brand,
        price,
        partition_date = min(partition_date) over (partition by sale_date, order_id) as order_first_here,
        partition_date = min(partition_date) over (partition by sale_date, order_id, brand) as brand_order_first_here,
        partition_date = min(partition_date) over (
            partition by sale_date, order_id, product_id
        ) as product_order_first_here
    from order_lines

),

totals as (

    select
        sale_date,
        partition_date,
        'total' as grain,
        cast(null as text) as brand,
        cast(null as bigint) as product_id,
        cast(null as bigint) as category_id,
        cast(null as text) as category_code,
        coalesce(sum(price), 0) as revenue,
        count(*) as units,
        count(distinct order_id) filter (where order_first_here) as orders,
        max(batch_id) as batch_id
    from first_seen
    group by sale_date, partition_date

),

brands as (

    select
        sale_date,
        partition_date,
        'brand' as grain,
        brand,
        cast(null as bigint) as product_id,
        cast(null as bigint) as category_id,
        cast(null as text) as category_code,
        coalesce(sum(price), 0) as revenue,
        count(*) as units,
        count(distinct order_id) filter (where brand_order_first_here) as orders
    from first_seen
    where brand is not null
    group by sale_date, partition_date, brand

),

products as (

    select
        sale_date,
        partition_date,
        'product' as grain,
        max(brand) as brand,
        product_id,
        max(category_id) as category_id,
        max(category_code) as category_code,
        coalesce(sum(price), 0) as revenue,
        count(*) as units,
        count(distinct order_id) filter (where product_order_first_here) as orders
    from first_seen
    group by sale_date, partition_date, product_id

),

fingerprinted_totals as (

    select
        totals.sale_date,
        totals.partition_date,
        totals.grain,
        totals.brand,
        totals.product_id,
        totals.category_id,
        totals.category_code,
        totals.revenue,
        totals.units,
        totals.orders,
        batch_files.files_fingerprint
    from totals
    left join batch_files on totals.batch_id = batch_files.batch_id

),

final as (

    select * from fingerprinted_totals
    union all
    select
        *,
        cast(null as text) as files_fingerprint
    from brands
    union all
    select
        *,
        cast(null as text) as files_fingerprint
    from products

)

select * from final
