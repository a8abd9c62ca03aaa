{#
    The time zone of the local times of one subscriptions file (`table`: stores, transactions, customers,
    products or conversations): the setting SUBSCRIPTIONS_TIMEZONE_<TABLE> (e.g. SUBSCRIPTIONS_TIMEZONE_STORES), else
    SUBSCRIPTIONS_TIMEZONE, else UTC; an IANA name (an empty setting counts as unset). Returned as a quoted literal;
    a name that is not a plausible IANA zone name is a compiler error (naming the setting it came from), and Postgres
    rejects an unknown one by name. Changing it after data is loaded changes the staged times of the dates run after:
    run the earlier dates again to restate them.
#}
{% macro subscriptions_timezone(table) -%}
    {%- set table_setting = 'SUBSCRIPTIONS_TIMEZONE_' ~ (table | upper) -%}
    {%- set table_zone = env_var(table_setting, '') | trim -%}
    {%- set source_zone = env_var('SUBSCRIPTIONS_TIMEZONE', '') | trim -%}
    {%- set setting = table_setting if table_zone else 'SUBSCRIPTIONS_TIMEZONE' -%}
    {%- set name = table_zone or source_zone or 'UTC' -%}
    {%- set bare = name | replace('/', '') | replace('_', '') | replace('-', '') | replace('+', '') -%}
    {%- if not bare.isalnum() or not bare.isascii() or name.startswith('/') -%}
        {{ exceptions.raise_compiler_error(
            setting ~ " must be an IANA time zone name such as 'America/Sao_Paulo', got '" ~ name ~ "'"
        ) }}
    {%- endif -%}
    {{ return("'" ~ name ~ "'") }}
{%- endmacro %}


{#
    A local time written without a zone ('2022-05-30 22:30:00.000000') in a CSV cell, as a timestamptz: read on the
    clocks of the file's zone (subscriptions_timezone(table)). Safe (safe_timestamp: trimmed, a digit first, then
    pg_input_is_valid; null otherwise): the suites' test of a CSV time, so a value they let through is never null
    here, and 'now' or 'today' never read the clock. A local time that the clocks skip (daylight saving starts) or
    show twice (it ends) follows Postgres' rules for local times.
#}
{% macro subscriptions_local_timestamptz(column, table) -%}
    ({{ safe_timestamp(column) }} at time zone {{ subscriptions_timezone(table) }})
{%- endmacro %}


{#
    The same for a time inside a JSON history cell (a period's fromDate, toDate, billingOnDate; `value` is the text
    of `period ->> 'fromDate'`): the stores suite's test of such a time, which is safe_timestamp's but untrimmed (in
    JSON a leading space makes no time: the suite quarantines it), so nothing it lets through is null here. Not
    safe_timestamp itself: its three btrim calls add about 2 s on the 4 million period times of the bench's
    snapshot, and trim nothing in a validated cell. Pass a column or a value computed once (it is read three times).
#}
{% macro subscriptions_json_timestamptz(value, table) -%}
    case
        when ascii({{ value }}) between 48 and 57 and pg_input_is_valid({{ value }}, 'timestamp')
            then cast({{ value }} as timestamp) at time zone {{ subscriptions_timezone(table) }}
    end
{%- endmacro %}


{# The UTC day (date) of a timestamptz: every day of the subscriptions marts is a UTC day. #}
{% macro utc_day(column) -%}
    cast({{ column }} at time zone 'UTC' as date)
{%- endmacro %}


{#
    The end of the run's day D, D+1 00:00 UTC (timestamptz): what the run knows. A period starting at or after it is
    unknown to the run; one ending at or after it is open on D.
#}
{% macro subscriptions_known_before() -%}
    (cast({{ run_date() }} + 1 as timestamp) at time zone 'UTC')
{%- endmacro %}


{#
    A history cell as jsonb, parsed once (dbt's only parse of the cell; the staging models unnest it right away with
    jsonb_array_elements ... with ordinality); null when the text does not start with `[` (not an array), so
    jsonb_array_elements never sees an object or a scalar. Staging reads only rows that passed validation, whose
    error rule (installhistory_is_json_array, subscriptionhistory_is_json_array) quarantines a cell that is not valid
    JSON starting with `[`, or holds a \u0000 escape: so the cast does not fail on what reaches it (but for a number
    beyond numeric's range, which no export writes), and no validity check is made here, which would parse every
    cell a second time (about 2 s more on the bench's snapshot).
#}
{% macro subscriptions_json_array(column) -%}
    case when ltrim({{ column }}, e' \t\n\r') like '[%' then cast({{ column }} as jsonb) end
{%- endmacro %}
