{{ config(materialized='view') }}

-- The districts an order can name, each only with its city: china_districts, and every city that has none there
-- (东莞市, 中山市, Hainan's counties, 仙桃市 ...) as its own single district, named like the city, under the city's code
with

cities as (

    select * from {{ ref('china_cities') }}

),

districts as (

    select * from {{ ref('china_districts') }}

),

cities_without_districts as (

    select
        cities.city_code,
        cities.city_code as district_code,
        cities.city_zh as district_zh,
        cities.city_en as district_en,
        cities.name_method,
        true as is_city_itself
    from cities
    where not exists (
        select 1 from districts
        where districts.city_code = cities.city_code
    )

),

final as (

    select
        city_code,
        district_code,
        district_zh,
        district_en,
        name_method,
        false as is_city_itself
    from districts

    union all

    select * from cities_without_districts

)

select * from final
