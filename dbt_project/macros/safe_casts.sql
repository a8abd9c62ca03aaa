{#
    Safe casts for raw text columns: a value becomes its type when Postgres accepts it as input for
    that type (pg_input_is_valid, Postgres 16+), null otherwise; they never raise an error.
    The GX suites in expectations/ use the same test, so "valid" means one thing in every layer:
    a value the checks let through is never turned into null here.
    Nested CASE expressions guarantee the order of evaluation (AND does not).
    The value is not trimmed for the check and the cast: every type's input skips surrounding whitespace
    (and a trim per use cost a fifth of staging's time on a million voucher rows).
    A date or time must start with a digit: Postgres also reads 'now', 'today', 'tomorrow', 'yesterday',
    'epoch' and 'infinity', the first four from the clock, which no run may read.
#}

{% macro safe_cast(column, type) -%}
    {%- set is_time = type in ('timestamp', 'timestamptz', 'date') -%}
    {%- set not_a_time = ('not ' ~ starts_with_digit(column)) if is_time else 'false' -%}
    case
        when {{ not_a_time }} then null
        when pg_input_is_valid({{ column }}, '{{ type }}')
            then cast({{ column }} as {{ type }})
    end
{%- endmacro %}


{# The text starts with a digit once trimmed (false for null): the test the suites' time rules share. #}
{% macro starts_with_digit(column) -%}
    coalesce(ascii(btrim({{ column }})) between 48 and 57, false)
{%- endmacro %}


{% macro safe_timestamp(column) -%}
    {{ safe_cast(column, 'timestamp') }}
{%- endmacro %}


{% macro safe_date(column) -%}
    cast({{ safe_cast(column, 'timestamp') }} as date)
{%- endmacro %}


{# Numeric, but not NaN or +/-Infinity (which Postgres accepts as numeric input). #}
{% macro safe_numeric(column) -%}
    case
        when lower(btrim({{ column }})) not like '%inf%' and lower(btrim({{ column }})) <> 'nan'
            then {{ safe_cast(column, 'numeric') }}
    end
{%- endmacro %}


{# Integer from '3' or '3.0' (a zero fraction, as exports write counts); null for '3.5' or ''. #}
{% macro safe_integer(column) -%}
    case
        when btrim({{ column }}) ~ '^[+-]?[0-9]{1,9}(\.0*)?$'
            then cast(cast(btrim({{ column }}) as numeric) as integer)
    end
{%- endmacro %}


{# Text with the export's spellings of "missing" ('' and the literal 'null') as null. #}
{% macro clean_text(column) -%}
    nullif(nullif(btrim({{ column }}), ''), 'null')
{%- endmacro %}


{# A UTC timestamp (timestamp without time zone) from text, whatever the session's time zone:
   a value that names its zone or offset is read in it ('2024-09-28 22:12:54.000000 UTC',
   '2022-05-29 08:19:07+00:00', '2024-09-28T22:12:54Z', '2024-03-10 01:30:00 America/New_York');
   one without ('2024-09-28 22:12:54', or the date '2024-09-28': 00:00) is read as UTC.
   Null when empty or not a timestamp. How it tells them apart: a value without a zone still
   parses with ' +00' appended, one with a zone does not (two zones). #}
{% macro safe_utc_timestamp(column) -%}
    case
        when not {{ starts_with_digit(column) }} then null
        when pg_input_is_valid(btrim({{ column }}) || ' +00', 'timestamptz')
            then cast(btrim({{ column }}) || ' +00' as timestamptz) at time zone 'UTC'
        when pg_input_is_valid(btrim({{ column }}), 'timestamptz')
            then cast(btrim({{ column }}) as timestamptz) at time zone 'UTC'
    end
{%- endmacro %}


{# Money rounded to cents: exports carry float32 noise such as 6.9899997711181641. #}
{% macro safe_money(column) -%}
    round({{ safe_numeric(column) }}, 2)
{%- endmacro %}
