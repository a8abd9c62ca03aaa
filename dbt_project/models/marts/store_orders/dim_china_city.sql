-- Every city of china_cities, with or without orders: rebuilt from the seeds on every run (a few hundred rows)
with

cities as (

    select * from {{ ref('china_cities') }}

),

aliases as (

    select * from {{ ref('china_city_aliases') }}

),

alias_lists as (

    select
        city_code,
        array_agg(alias order by alias collate "C") as aliases
    from aliases
    group by city_code

),

final as (

    select
        cities.city_code,
        cities.city_zh,
        coalesce(alias_lists.aliases, cast(array[] as text[])) as aliases,
        cities.city_en,
        cities.province_zh,
        cities.province_en,
        cities.name_method
    from cities
    left join alias_lists on cities.city_code = alias_lists.city_code

)

select * from final
