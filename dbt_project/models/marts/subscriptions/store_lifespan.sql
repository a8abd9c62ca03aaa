{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ delete_partition('as_of_date') }}",
        indexes=[{'columns': ['as_of_date', 'store_id'], 'unique': true}],
    )
}}

-- Each store's lifespan as known at the run (as_of_date D), from its install spells
with

spells as (

    select * from {{ ref('int_subscriptions__install_spells') }}
    where as_of_date = {{ run_date() }}

),

stores as (

    select
        as_of_date,
        store_id,
        min(first_day) as first_install_date,
        max(last_day) as last_day,
        sum(spell_days) as installed_days,
        sum(install_periods) as install_periods,
        count(*) as spells,
        bool_or(is_open) as is_installed,
        max(end_type) filter (where is_last_spell) as last_end_type
    from spells
    group by as_of_date, store_id

),

final as (

    select
        as_of_date,
        store_id,
        first_install_date,
        case when not is_installed then last_day end as last_installed_date,
        case when is_installed then as_of_date else last_day end - first_install_date as lifespan_days,
        cast(installed_days as integer) as installed_days,
        cast(install_periods as integer) as install_periods,
        cast(spells as integer) as spells,
        is_installed,
        last_end_type
    from stores

)

select * from final
