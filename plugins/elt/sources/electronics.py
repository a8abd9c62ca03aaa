"""Electronics store: purchase history exports (CSV), one row per unit sold.

Columns of the public "eCommerce purchase history from electronics store" export. Exact duplicate rows are
real sales (four identical phones are four identical rows), so the table has no key. A daily file holds
mostly that day's lines plus late lines of earlier days; the first delivery is often the whole history.
"""

from elt.sources import ReportSection, Source, Table

PURCHASES = Table(
    name="purchases",
    patterns=("*.csv", "*.csv.gz"),
    required=("event_time", "order_id", "product_id", "category_id", "category_code", "brand", "price", "user_id"),
)

REPORT = (
    ReportSection(
        title="marts.electronics_sales_daily: the 7 days to {date}",
        mart="electronics_sales_daily",
        date_column="sale_date",
        query="select sale_date, revenue, orders, units, customers, avg_order_value"
        " from marts.electronics_sales_daily where sale_date > %(date)s::date - 7 and sale_date <= %(date)s"
        " order by sale_date",
        headers=("sale_date", "revenue", "orders", "units", "customers", "avg_order_value"),
    ),
    ReportSection(
        title="marts.electronics_kpis as of {date}",
        mart="electronics_kpis",
        query="select year, revenue_ytd, orders_ytd, avg_order_value_ytd, revenue_same_period_last_year"
        " from marts.electronics_kpis where as_of_date = %(date)s",
        headers=("year", "revenue_ytd", "orders_ytd", "aov_ytd", "revenue_same_period_last_year"),
    ),
    ReportSection(
        title="marts.electronics_brand_ranking as of {date}: the top 5 brands per window",
        mart="electronics_brand_ranking",
        query="select window_weeks, rank, brand, revenue, orders, previous_rank, rank_change, revenue_change_pct"
        " from marts.electronics_brand_ranking where as_of_date = %(date)s and rank <= 5"
        " order by window_weeks, rank",
        headers=("weeks", "rank", "brand", "revenue", "orders", "previous_rank", "rank_change", "revenue_change_%"),
    ),
)

SOURCE = Source(
    name="electronics",
    tables=(PURCHASES,),
    description="electronics store purchase history; daily sales, peak hours, year to date, brand rankings",
    dag_ids=("electronics_daily",),
    generator="elt.generate.electronics:generate_electronics",
    report=REPORT,
)
