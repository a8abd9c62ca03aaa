-- A view: the intermediate orders model reads each partition of it once
with

passed as (

    {{ passed_rows('store_orders', 'orders_json') }}

),

typed as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ clean_text('order_id') }} as order_id,
        {{ store_orders_hhmmss('order_time_pst') }} as order_hhmmss,
        {{ clean_text('ship_to_city_cd') }} as city_name,
        {{ clean_text('ship_to_district_name') }} as district_name,
        {{ safe_numeric('rptg_amt') }} as amount,
        upper({{ clean_text('currency_cd') }}) as currency,
        {{ store_orders_units('order_qty') }} as units
    from passed

),

timed as (

    select
        *,
        {{ store_orders_order_at('partition_date', store_orders_time_of_day('order_hhmmss')) }} as order_at
    from typed

),

final as (

    select
        partition_date,
        source_file,
        source_row,
        batch_id,
        order_id,
        partition_date as order_date,
        order_at,
        {{ hour_in('order_at', store_orders_timezone()) }} as hour_pacific,
        {{ hour_in('order_at', store_orders_china_timezone()) }} as hour_china,
        city_name,
        district_name,
        amount,
        currency,
        units
    from timed

)

select * from final
