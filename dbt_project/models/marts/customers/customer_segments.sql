{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ delete_partition('as_of_date', data_interval_end()) }}",
        indexes=[{'columns': ['as_of_date', 'user_id'], 'unique': True}],
    )
}}

with

as_of as (

    select
        {{ data_interval_end() }} as as_of_date,
        cast({{ data_interval_end() }} as timestamp) as as_of_at,
        cast({{ data_interval_end() }} as timestamp) - interval '365 days' as year_start_at

),

first_load as (

    -- the first partition of order items ever loaded: before it, the first file's statuses are all we know
    select min(partition_date) as first_partition_date
    from {{ source('audit', 'load_log') }}
    where source = 'thelook' and table_name = 'order_items' and status = 'loaded'

),

users as (

    select
        user_id,
        age,
        gender,
        country,
        state
    from {{ ref('stg_thelook__users') }}
    where created_at < (select as_of.as_of_at from as_of)

),

nearest as (

    select * from {{ ref('int_users_nearest_distribution_center') }}

),

items as (

    -- items ordered before T and not cancelled as of T
    select
        items.user_id,
        items.order_id,
        items.created_at,
        items.sale_price,
        items.margin,
        items.created_at >= as_of.year_start_at as is_last_year,
        coalesce(items.returned_at < as_of.as_of_at, false) as is_returned
    from {{ ref('int_order_items_costed') }} as items
    cross join as_of
    cross join first_load
    where
        items.created_at < as_of.as_of_at
        and (
            items.cancelled_seen_on is null
            or items.cancelled_seen_on >= greatest(as_of.as_of_date, first_load.first_partition_date + 1)
        )

),

activity as (

    select
        user_id,
        count(*) filter (where is_last_year) as items_last_year,
        count(*) filter (where is_last_year and is_returned) as returned_items_last_year,
        coalesce(sum(sale_price) filter (where is_last_year and not is_returned), 0) as spend_last_year,
        coalesce(sum(margin) filter (where is_last_year and not is_returned), 0) as margin_last_year,
        count(distinct order_id) filter (where is_last_year) as frequency_orders_last_year,
        max(created_at) as latest_item_at
    from items
    group by user_id

),

features as (

    select
        as_of.as_of_date,
        users.user_id,
        users.age,
        users.gender,
        users.country,
        users.state,
        nearest.nearest_distribution_center_id,
        nearest.nearest_distribution_center,
        nearest.distance_km,
        coalesce(activity.items_last_year, 0) as items_last_year,
        coalesce(activity.returned_items_last_year, 0) as returned_items_last_year,
        round(activity.returned_items_last_year / nullif(cast(activity.items_last_year as numeric), 0), 4)
            as return_rate,
        coalesce(activity.spend_last_year, 0) as spend_last_year,
        coalesce(activity.margin_last_year, 0) as margin_last_year,
        as_of.as_of_date - cast(activity.latest_item_at as date) as recency_days,
        coalesce(activity.frequency_orders_last_year, 0) as frequency_orders_last_year
    from users
    cross join as_of
    left join nearest on users.user_id = nearest.user_id
    left join activity on users.user_id = activity.user_id

),

buyers as (

    -- quintile score = ceil(5 x share of last year's buyers whose value is no better than the user's);
    -- equal values share a score
    select
        user_id,
        ceil(5.0 * count(*) over (order by recency_days desc) / count(*) over ()) as r_score,
        ceil(5.0 * count(*) over (order by frequency_orders_last_year) / count(*) over ()) as f_score,
        ceil(5.0 * count(*) over (order by spend_last_year) / count(*) over ()) as m_score
    from features
    where items_last_year > 0

),

final as (

    select
        features.as_of_date,
        features.user_id,
        features.age,
        features.gender,
        features.country,
        features.state,
        features.nearest_distribution_center_id,
        features.nearest_distribution_center,
        features.distance_km,
        features.items_last_year,
        features.returned_items_last_year,
        features.return_rate,
        features.spend_last_year,
        case
            when features.spend_last_year <= 50 then 'Level 1'
            when features.spend_last_year <= 150 then 'Level 2'
            else 'Level 3'
        end as profit_level,
        features.margin_last_year,
        features.recency_days,
        features.frequency_orders_last_year,
        cast(buyers.r_score as integer) as r_score,
        cast(buyers.f_score as integer) as f_score,
        cast(buyers.m_score as integer) as m_score,
        -- average order value x orders per year x expected lifetime (see the model's YAML)
        round(
            features.spend_last_year / nullif(features.frequency_orders_last_year, 0)
            * features.frequency_orders_last_year
            * {{ var('clv_expected_lifetime_years', 3) }},
            2
        ) as clv_estimate
    from features
    left join buyers on features.user_id = buyers.user_id

)

select * from final
