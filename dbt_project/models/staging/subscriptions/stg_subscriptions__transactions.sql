-- A view: branch_performance reads the run's partition of it once (the filter reaches the raw partition)
with

passed as (

    {{ passed_rows('subscriptions', 'transactions') }}

),

typed as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ clean_text('transaction_id') }} as transaction_id,
        {{ subscriptions_local_timestamptz('orderdate', 'transactions') }} as order_at,
        {{ clean_text('branchid') }} as branch_id,
        {{ clean_text('branchname') }} as branch_name,
        {{ clean_text('customer_id') }} as customer_id,
        {{ safe_numeric('totalamount') }} as total_amount,
        {{ safe_integer('status') }} as status,
        {{ clean_text('statusvalue') }} as status_value,
        {{ clean_text('product_id') }} as product_id,
        {{ safe_numeric('price') }} as price
    from passed

),

final as (

    select
        partition_date,
        source_file,
        source_row,
        batch_id,
        transaction_id,
        order_at,
        branch_id,
        branch_name,
        customer_id,
        total_amount,
        status,
        status_value,
        -- the text is the truth (status 0/1 is checked against it by the suite)
        coalesce(lower(status_value) = 'completed', false) as is_completed,
        product_id,
        price
    from typed

)

select * from final
