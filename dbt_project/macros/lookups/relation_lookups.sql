{#
    The relation of a model built later in the same run, as it stands before that build (its previous
    state), or none when it does not exist yet. For a model that must see what another is about to
    replace, without a ref (which would make it run after). dbt-only Jinja (adapter, target): sqlfluff
    lints with a stub (.sqlfluff).
#}
{% macro previous_relation(schema, identifier) -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=identifier)) }}
{%- endmacro %}


{# Whether `relation` (which exists) has a column named `column`: for a model whose columns grew since it was built. #}
{% macro relation_has_column(relation, column) -%}
    {{ return(column in (adapter.get_columns_in_relation(relation) | map(attribute='name') | list)) }}
{%- endmacro %}
