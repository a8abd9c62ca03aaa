{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition('partition_date') }}",
        indexes=[{'columns': ['partition_date']}],
    )
}}

-- Built before the fact (which depends on it): the fact still holds the partition's previous lines,
-- so a re-run whose file changed also rebuilds the dates its old lines fell on.
{%- set fact = previous_relation('marts', 'electronics_order_lines') if is_incremental() else none %}
{%- set previous_lines = fact if fact is not none else '(select * from new_lines where false)' %}
{%- set this_partition_only = ('partition_date = ' ~ run_date()) if is_incremental() else 'true' %}

with

purchases as (

    select * from {{ ref('stg_electronics__purchases') }}

),

new_lines as (

    select
        partition_date,
        cast({{ electronics_local_time('event_at') }} as date) as sale_date
    from purchases
    where {{ this_partition_only }}

),

final as (

    select
        partition_date,
        sale_date
    from new_lines

    union

    select
        previous.partition_date,
        previous.sale_date
    from {{ previous_lines }} as previous
    where {{ this_partition_only }}

)

select * from final
