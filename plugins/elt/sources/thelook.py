"""theLook e-commerce: BigQuery CSV exports, full snapshots or daily deltas, upserted by key.

A snapshot day has all 7 files. A delta day has a file only for the tables with rows that day: products
and distribution centres never come in deltas, and users, orders, order items and inventory items have
no file on a quiet day. Events are written every day: a day without them is missing its export.
"""

from elt.sources import ReportSection, Source, Table


def _table(
    name: str,
    key: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    every_day: bool = False,
    personal: tuple[str, ...] = (),
) -> Table:
    return Table(
        name=name,
        patterns=(f"{name}*.csv", f"{name}*.csv.gz"),
        required=required,
        optional=optional,
        key=(key,),
        every_day=every_day,
        personal=personal,
    )


TABLES = (
    _table(
        "users",
        "id",
        (
            "id",
            "first_name",
            "last_name",
            "email",
            "age",
            "gender",
            "state",
            "street_address",
            "postal_code",
            "city",
            "country",
            "latitude",
            "longitude",
            "traffic_source",
            "created_at",
        ),
        optional=("user_geom",),
        personal=(
            "first_name",
            "last_name",
            "email",
            "street_address",
            "postal_code",
            "latitude",
            "longitude",
            "user_geom",
        ),
    ),
    _table(
        "orders",
        "order_id",
        (
            "order_id",
            "user_id",
            "status",
            "gender",
            "created_at",
            "returned_at",
            "shipped_at",
            "delivered_at",
            "num_of_item",
        ),
    ),
    _table(
        "order_items",
        "id",
        (
            "id",
            "order_id",
            "user_id",
            "product_id",
            "inventory_item_id",
            "status",
            "created_at",
            "shipped_at",
            "delivered_at",
            "returned_at",
            "sale_price",
        ),
    ),
    _table(
        "products",
        "id",
        ("id", "cost", "category", "name", "brand", "retail_price", "department", "sku", "distribution_center_id"),
    ),
    _table(
        "inventory_items",
        "id",
        (
            "id",
            "product_id",
            "created_at",
            "sold_at",
            "cost",
            "product_category",
            "product_name",
            "product_brand",
            "product_retail_price",
            "product_department",
            "product_sku",
            "product_distribution_center_id",
        ),
    ),
    _table(
        "distribution_centers", "id", ("id", "name", "latitude", "longitude"), optional=("distribution_center_geom",)
    ),
    _table(
        "events",
        "id",
        (
            "id",
            "user_id",
            "sequence_number",
            "session_id",
            "created_at",
            "ip_address",
            "city",
            "state",
            "postal_code",
            "browser",
            "traffic_source",
            "uri",
            "event_type",
        ),
        every_day=True,
        personal=("ip_address",),
    ),
)

# Written by elt.segmentation (k-means, not dbt): created by the warehouse bootstrap, so that they exist with
# their grants before a run.
CLUSTER_TABLES_DDL = """
create table if not exists marts.customer_clusters (
    as_of_date date not null,
    user_id bigint not null,
    cluster int not null check (cluster >= 1),
    primary key (as_of_date, user_id)
);
comment on table marts.customer_clusters is
    'The k-means cluster of each customer who bought in the year before as_of_date (weekly segmentation,'
    ' elt.segmentation). Clusters are numbered 1..k by descending mean spend: 1 = the top spenders.'
    ' Profiles: marts.customer_cluster_profiles.';

create table if not exists marts.customer_cluster_profiles (
    as_of_date date not null,
    cluster int not null check (cluster >= 1),
    customers int not null,
    share_of_customers numeric not null,
    recency_days_mean numeric,
    frequency_orders_last_year_mean numeric,
    spend_last_year_mean numeric,
    margin_last_year_mean numeric,
    items_last_year_mean numeric,
    return_rate_mean numeric,
    distance_km_mean numeric,
    primary key (as_of_date, cluster)
);
comment on table marts.customer_cluster_profiles is
    'One row per cluster of marts.customer_clusters and as_of_date: its customers, their share of the'
    ' date''s clustered customers, and the mean of each clustering feature (from marts.customer_segments;'
    ' nulls left out, 2 decimals, return_rate 4).';
"""

REPORT = (
    ReportSection(
        title="marts.customer_segments as of {date}: customers by profit level",
        mart="customer_segments",
        query="select profit_level, count(*), count(r_score), round(avg(spend_last_year), 2),"
        " round(avg(return_rate), 4), round(avg(clv_estimate), 2)"
        " from marts.customer_segments where as_of_date = %(date)s group by 1 order by 1",
        headers=("profit_level", "customers", "buyers", "avg_spend", "avg_return_rate", "avg_clv"),
    ),
    ReportSection(
        title="marts.customer_cluster_profiles as of {date}",
        mart="customer_cluster_profiles",
        query="select cluster, customers, recency_days_mean, frequency_orders_last_year_mean, spend_last_year_mean,"
        " return_rate_mean, distance_km_mean from marts.customer_cluster_profiles where as_of_date = %(date)s"
        " order by cluster",
        headers=("cluster", "customers", "recency", "orders", "spend", "return_rate", "distance_km"),
    ),
)

SOURCE = Source(
    name="thelook",
    tables=TABLES,
    description="theLook e-commerce exports; customer features for segmentation",
    dag_ids=("thelook_daily", "customer_segments_weekly"),
    generator="elt.generate.thelook:generate_thelook",
    report=REPORT,
    ddl=CLUSTER_TABLES_DDL,
)
