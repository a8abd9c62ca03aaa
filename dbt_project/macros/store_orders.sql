{#
    The time zone of the store_orders files' times of day (the setting STORE_ORDERS_TIMEZONE, an IANA name;
    default America/Los_Angeles: the header says `ORDER_TIME  (PST)`, and the zone's rules make daylight saving
    right). Returned as a quoted literal; a name that is not a plausible IANA zone name is a compiler error, and
    Postgres rejects an unknown one by name. Changing it after data is loaded needs a full refresh of the
    store_orders models.
#}
{% macro store_orders_timezone() -%}
    {%- set name = (env_var('STORE_ORDERS_TIMEZONE', '') | trim) or 'America/Los_Angeles' -%}
    {%- set bare = name | replace('/', '') | replace('_', '') | replace('-', '') | replace('+', '') -%}
    {%- if not bare.isalnum() or not bare.isascii() or name.startswith('/') -%}
        {{ exceptions.raise_compiler_error(
            "STORE_ORDERS_TIMEZONE must be an IANA time zone name such as 'America/Los_Angeles', got '" ~ name ~ "'"
        ) }}
    {%- endif -%}
    {{ return("'" ~ name ~ "'") }}
{%- endmacro %}


{# The stores' own time zone: the hour in China beside the files' hour. #}
{% macro store_orders_china_timezone() -%}
    'Asia/Shanghai'
{%- endmacro %}


{#
    The whole number of HHMMSS digits of a time of day written as an integer without zero padding ('50127' is
    05:01:27, '50127.0' from a float cell the same), or null: the test of the suites' rule order_time_readable
    (1 to 6 digits, an optional zero fraction); whether the digits make a time is store_orders_time_of_day's.
#}
{% macro store_orders_hhmmss(column) -%}
    case
        when btrim({{ column }}) ~ '^[0-9]{1,6}([.]0*)?$'
            then cast(split_part(btrim({{ column }}), '.', 1) as integer)
    end
{%- endmacro %}


{#
    The time of day of HHMMSS digits (an integer, see store_orders_hhmmss), or null when the hour is over 23 or the
    minutes or seconds over 59.
#}
{% macro store_orders_time_of_day(hhmmss) -%}
    case
        when {{ hhmmss }} / 10000 <= 23 and {{ hhmmss }} / 100 % 100 <= 59 and {{ hhmmss }} % 100 <= 59
            then make_time({{ hhmmss }} / 10000, {{ hhmmss }} / 100 % 100, {{ hhmmss }} % 100)
    end
{%- endmacro %}


{#
    Units ordered: a whole number of at least 0 ('2', '2.0'), else null (empty, fractional, not a number): the
    rows the suites' warn rule quantity_whole flags are those with null units (and absurd counts of over 18
    digits, null here).
#}
{% macro store_orders_units(column) -%}
    case
        when btrim({{ column }}) ~ '^[0-9]{1,18}([.]0*)?$'
            then cast(split_part(btrim({{ column }}), '.', 1) as bigint)
    end
{%- endmacro %}


{# The filter of an incremental store_orders model's input: the run's day only (every day on a first build). #}
{% macro store_orders_run_day_only(column) -%}
    {%- if is_incremental() -%}
        {{ column }} = {{ run_date() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#
    When an order was placed (timestamptz): its day (the partition date, a day in the files' zone) plus its time
    of day, read in the files' zone (store_orders_timezone), so that daylight saving is right. A time that the
    clocks skip (02:30 on the day daylight saving starts) is read as standard time (03:30 daylight time); one that
    happens twice (01:30 on the day it ends) as the later, standard-time one: Postgres' rules for local times.
#}
{% macro store_orders_order_at(day, time_of_day) -%}
    (({{ day }} + {{ time_of_day }}) at time zone {{ store_orders_timezone() }})
{%- endmacro %}


{# The hour (0-23) of a timestamptz on the clocks of a time zone. #}
{% macro hour_in(column, timezone) -%}
    cast(extract(hour from {{ column }} at time zone {{ timezone }}) as integer)
{%- endmacro %}
