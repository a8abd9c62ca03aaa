"""theLook e-commerce: BigQuery CSV exports, full snapshots or daily deltas, upserted by key.

A snapshot day has all 7 files. A delta day has a file only for the tables with rows that day: products
and distribution centres never come in deltas, and users, orders, order items and inventory items have
no file on a quiet day. Events are written every day: a day without them is missing its export.
"""

from elt.sources import Source, Table


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

SOURCE = Source(
    name="thelook",
    tables=TABLES,
    description="theLook e-commerce exports; customer features for segmentation",
    dag_ids=("thelook_daily", "customer_segments_weekly"),
)
