{{ config(materialized='view') }}

-- Every spelling that names a city of china_cities: its official name and its aliases (short and former names)
with

cities as (

    select * from {{ ref('china_cities') }}

),

aliases as (

    select * from {{ ref('china_city_aliases') }}

),

final as (

    select
        city_zh as city_name,
        city_code,
        'official' as name_kind
    from cities

    union all

    select
        alias as city_name,
        city_code,
        alias_kind as name_kind
    from aliases

)

select * from final
