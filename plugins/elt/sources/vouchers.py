"""Vouchers: voucher assignments to customers, as Parquet or CSV exports."""

from elt.sources import ReportSection, Source, Table

VOUCHER_ASSIGNMENTS = Table(
    name="voucher_assignments",
    patterns=("*.parquet", "*.parquet.gzip", "*.parquet.gz", "*.csv", "*.csv.gz"),
    required=("timestamp", "country_code", "last_order_ts", "total_orders", "voucher_amount"),
    optional=("first_order_ts",),
)

REPORT = (
    ReportSection(
        title="marts.voucher_most_used as of {date}",
        mart="voucher_most_used",
        query="select country_code, segment_type, segment, voucher_amount, assignments, segment_assignments"
        " from marts.voucher_most_used where as_of_date = %(date)s"
        " order by country_code, segment_type, substring(segment from '^[0-9]+')::int",
        headers=("country", "segment_type", "segment", "voucher_amount", "assignments", "segment_total"),
    ),
)

SOURCE = Source(
    name="vouchers",
    tables=(VOUCHER_ASSIGNMENTS,),
    description="voucher assignments; most-used voucher amount per country and customer segment",
    dag_ids=("vouchers_daily",),
    generator="elt.generate.vouchers:generate_vouchers",
    report=REPORT,
)
