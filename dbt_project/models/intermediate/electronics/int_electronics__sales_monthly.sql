{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_dates('month', grain='month') }}",
        indexes=[{'columns': ['month'], 'unique': true}],
    )
}}

-- depends_on: {{ ref('int_electronics__partition_sale_dates') }} (the sale dates to rebuild)
-- Rebuilt only for the months of the sale dates the run's partition touches (customers and orders are
-- distinct over the month, so a month is recounted from its lines).
with

{% if is_incremental() -%}
    rebuilt_months as (

        select distinct cast(date_trunc('month', rebuilt.sale_date) as date) as month_start
        from ({{ electronics_rebuilt_dates() }}) as rebuilt

    ),
{%- endif %}

order_lines as (

    select
        order_line.*,
        cast(date_trunc('month', order_line.sale_date) as date) as month_start
    from {{ ref('electronics_order_lines') }} as order_line
    {% if is_incremental() -%}
        where
            order_line.sale_date >= (select min(rebuilt_months.month_start) from rebuilt_months)
            and cast(date_trunc('month', order_line.sale_date) as date) in (
                select rebuilt_months.month_start from rebuilt_months
            )
    {%- endif %}

),

final as (

    select
        month_start as month,  -- noqa: RF04
        coalesce(sum(price), 0) as revenue,
        count(distinct order_id) as orders,
        count(*) as units,
        count(distinct user_id) as customers
    from order_lines
    group by month_start

)

select * from final
