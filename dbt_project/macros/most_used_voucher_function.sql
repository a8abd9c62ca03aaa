{#
    marts.most_used_voucher(country_code, last_order_ts, total_orders, segment_type, as_of)
    for psql users, created by the post-hook of voucher_most_used:

        select marts.most_used_voucher('Peru', '2018-05-03', 12, 'frequent_segment', '2018-07-21');

    It finds the customer's segment from the arguments and the segment definitions (seed
    voucher_segments): frequent_segment from total_orders, recency_segment from the days between
    last_order_ts::date and as_of. It returns the voucher_amount of voucher_most_used for that
    country and segment at the latest as_of_date on or before as_of; null when there is none or
    when the segment cannot be computed (null argument, value outside every segment). An unknown
    segment_type is an error.

    Its companion marts.voucher_segment(segment_type, last_order_ts, total_orders, as_of) returns
    the segment itself (the voucher lookup API answers with it); most_used_voucher calls it, so the two
    cannot disagree.

    Both are SECURITY DEFINER (with a fixed search_path) because analysts read marts but not the seed in
    staging; EXECUTE is revoked from PUBLIC and granted to elt_analyst when that role exists.
#}
{% macro create_most_used_voucher_function() -%}
    {#- no database name in the bodies: they are stored text, and must survive a renamed or restored database -#}
    {%- set mart = this.include(database=False) -%}
    {%- set segments = ref('voucher_segments').include(database=False) -%}
    {%- set function = mart.schema ~ '.most_used_voucher' -%}
    {%- set signature = function ~ '(text, timestamp, integer, text, date)' -%}
    {%- set segment_function = mart.schema ~ '.voucher_segment' -%}
    {%- set segment_signature = segment_function ~ '(text, timestamp, integer, date)' -%}
    select pg_advisory_xact_lock(hashtext('{{ function }}'));

    create or replace function {{ segment_function }}(
        segment_type text,
        last_order_ts timestamp,
        total_orders integer,
        as_of date
    )
    returns text
    language plpgsql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $voucher_segment$
    declare
        segment_value integer;
        customer_segment text;
    begin
        if voucher_segment.segment_type is null
            or voucher_segment.segment_type not in ('frequent_segment', 'recency_segment') then
            raise exception 'unknown segment_type %: expected frequent_segment or recency_segment',
                coalesce(quote_literal(voucher_segment.segment_type), 'NULL')
                using errcode = 'invalid_parameter_value';
        end if;

        if voucher_segment.segment_type = 'frequent_segment' then
            segment_value := voucher_segment.total_orders;
        else
            segment_value := voucher_segment.as_of - voucher_segment.last_order_ts::date;
        end if;
        if segment_value is null then
            return null;
        end if;

        select s.segment into customer_segment
        from {{ segments }} as s
        where s.segment_type = voucher_segment.segment_type
            and segment_value >= s.min_value
            and (s.max_value is null or segment_value <= s.max_value)
        order by s.min_value
        limit 1;
        return customer_segment;
    end
    $voucher_segment$;

    comment on function {{ segment_signature }} is
        'The customer''s segment (e.g. ''180+'') in a segment type, as most_used_voucher finds it: '
        'frequent_segment from total_orders, recency_segment from the days between last_order_ts::date and as_of.';

    revoke all on function {{ segment_signature }} from public;

    create or replace function {{ function }}(
        country_code text,
        last_order_ts timestamp,
        total_orders integer,
        segment_type text,
        as_of date
    )
    returns numeric
    language plpgsql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $most_used_voucher$
    declare
        customer_segment text;
        amount numeric;
    begin
        -- raises on an unknown segment_type (also with a null country_code)
        customer_segment := {{ segment_function }}(
            most_used_voucher.segment_type,
            most_used_voucher.last_order_ts,
            most_used_voucher.total_orders,
            most_used_voucher.as_of
        );
        if customer_segment is null or most_used_voucher.country_code is null then
            return null;
        end if;

        select m.voucher_amount into amount
        from {{ mart }} as m
        where m.country_code = btrim(most_used_voucher.country_code)
            and m.segment_type = most_used_voucher.segment_type
            and m.segment = customer_segment
            and m.as_of_date <= most_used_voucher.as_of
        order by m.as_of_date desc
        limit 1;
        return amount;
    end
    $most_used_voucher$;

    comment on function {{ signature }} is
        'Most-used voucher amount for a customer (country, last order, total orders) in a segment type '
        '(frequent_segment or recency_segment), from the latest as_of_date on or before as_of.';

    revoke all on function {{ signature }} from public;

    do $grant$
    begin
        if exists (select from pg_catalog.pg_roles where rolname = 'elt_analyst') then
            grant execute on function {{ signature }} to elt_analyst;
            grant execute on function {{ segment_signature }} to elt_analyst;
        end if;
    end
    $grant$
{%- endmacro %}
