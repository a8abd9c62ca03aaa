{#
    What a voucher as-of date is computed from, for prepare_as_of_builds: the content (sha256) of the
    files of each partition's last load that loaded any (the rows the partition holds), and the segment
    definitions (seed voucher_segments, as of every date): a date made from the day before is only right
    if that day was made from the same files and segments.
#}
{% macro vouchers_as_of_inputs() -%}
    select
        partition_date,
        file_sha256 as input
    from (
        select
            partition_date,
            file_sha256,
            batch_id,
            max(batch_id) over (partition by partition_date) as current_batch_id
        from {{ source('audit', 'load_log') }}
        where source = 'vouchers' and table_name = 'voucher_assignments' and status = 'loaded'
    ) as loads
    where batch_id = current_batch_id

    union all

    select
        cast('-infinity' as date) as partition_date,
        'voucher_segments:' || md5(string_agg(
            concat_ws(',', segment_type, segment, min_value, max_value), ';'
            order by segment_type, segment, min_value, max_value
        )) as input
    from {{ ref('voucher_segments') }}
{%- endmacro %}
