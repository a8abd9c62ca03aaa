{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_partition('order_date') }}",
            "set local enable_nestloop = off",
        ],
        indexes=[{'columns': ['order_date']}],
    )
}}

-- enable_nestloop off (for this build's transaction only): the day's raw partitions are fresh tables without
-- statistics, so Postgres guesses a few hundred rows and joins 170,000 workbook orders to the 2,500-row map in a
-- nested loop (25 s for a day); hash joins take under 2 s.

-- The day's orders of both feeds in one shape, their location resolved to one city and district code and their
-- amount converted to RMB at the day's rate. An incremental run reads and replaces only its own day.
with

sheet_orders as (

    select * from {{ ref('stg_store_orders__orders_sheet') }}
    where {{ store_orders_run_day_only('partition_date') }}

),

district_map as (

    select * from {{ ref('stg_store_orders__city_district_map') }}
    where {{ store_orders_run_day_only('partition_date') }}

),

json_orders as (

    select * from {{ ref('stg_store_orders__orders_json') }}
    where {{ store_orders_run_day_only('partition_date') }}

),

city_names as (

    select * from {{ ref('int_store_orders__city_names') }}

),

districts as (

    select * from {{ ref('int_store_orders__districts') }}

),

fx_rates as (

    select * from {{ ref('stg_store_orders__fx_rates') }}

),

-- the workbook's orders get their names from the same day's map (an id in no map, like 999999, gets none)
sheet_orders_named as (

    select
        sheet_orders.order_date,
        'xlsx' as feed,
        sheet_orders.source_file,
        sheet_orders.source_row,
        sheet_orders.batch_id,
        sheet_orders.order_id,
        sheet_orders.order_at,
        sheet_orders.hour_pacific,
        sheet_orders.hour_china,
        sheet_orders.city_district_id,
        district_map.city_name,
        district_map.district_name,
        sheet_orders.currency,
        sheet_orders.amount,
        sheet_orders.units
    from sheet_orders
    left join district_map
        on
            sheet_orders.partition_date = district_map.partition_date
            and sheet_orders.city_district_id = district_map.city_district_id

),

unioned as (

    select * from sheet_orders_named

    union all

    select
        order_date,
        'json' as feed,
        source_file,
        source_row,
        batch_id,
        order_id,
        order_at,
        hour_pacific,
        hour_china,
        cast(null as text) as city_district_id,
        city_name,
        district_name,
        currency,
        amount,
        units
    from json_orders

),

-- a city by any of its names; a district only together with its city
located as (

    select
        unioned.*,
        city_names.city_code as known_city_code,
        districts.district_code as known_district_code
    from unioned
    left join city_names
        on unioned.city_name = city_names.city_name
    left join districts
        on
            city_names.city_code = districts.city_code
            and unioned.district_name = districts.district_zh

),

converted as (

    select
        located.*,
        fx_rates.cny_per_unit as fx_rate,
        fx_rates.ecb_date
    from located
    left join fx_rates
        on
            located.order_date = fx_rates.rate_date
            and case located.currency when 'RMB' then 'CNY' else located.currency end = fx_rates.currency

),

final as (

    select
        order_date,
        feed,
        source_file,
        source_row,
        batch_id,
        order_id,
        order_at,
        hour_pacific,
        hour_china,
        city_district_id,
        city_name,
        district_name,
        coalesce(known_city_code, 'unknown') as city_code,
        case when known_city_code is null then 'unknown' else coalesce(known_district_code, 'unknown') end
            as district_code,
        currency,
        amount,
        fx_rate,
        ecb_date,
        round(amount * fx_rate, 2) as amount_rmb,
        units
    from converted

)

select * from final
