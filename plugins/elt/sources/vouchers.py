"""Vouchers: voucher assignments to customers, as Parquet or CSV exports."""

from elt.sources import Source, Table

VOUCHER_ASSIGNMENTS = Table(
    name="voucher_assignments",
    patterns=("*.parquet", "*.parquet.gzip", "*.parquet.gz", "*.csv", "*.csv.gz"),
    required=("timestamp", "country_code", "last_order_ts", "total_orders", "voucher_amount"),
    optional=("first_order_ts",),
)

SOURCE = Source(
    name="vouchers",
    tables=(VOUCHER_ASSIGNMENTS,),
    description="voucher assignments; most-used voucher amount per country and customer segment",
    dag_ids=("vouchers_daily",),
)
