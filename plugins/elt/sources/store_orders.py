"""Store orders across Chinese cities: a workbook (two sheets) and a JSON feed per day, from two order systems.

`dataset1.xlsx` holds the orders of one system (sheet DATA) and its map of district ids to city and district names
(sheet CITY_DISTRICT_MAP); `dataset2.json` holds the other system's orders with the names written out. Their order
ids never overlap. Headers become identifiers (`ORDER_TIME  (PST)` is `order_time_pst`). The Python steps own the
day's exchange rates (raw_store_orders.fx_rates, elt.fx) and the cities' sales tiers (elt.tiers).
"""

from elt.fx import fx_rates_ddl
from elt.sources import ReportSection, Source, Table

FX_RATES_TABLE = "raw_store_orders.fx_rates"
# the sales tiers of the day's cities, written by elt.tiers.tier_cities after the intermediate models
CITY_TIERS_DDL = """
create table if not exists intermediate.store_city_sales_tiers (
    order_date date not null,
    city_code text not null,
    sales_tier int not null check (sales_tier >= 1),
    primary key (order_date, city_code)
);
comment on table intermediate.store_city_sales_tiers is
    'Sales tier of each city with known location on order_date (elt.tiers.tier_cities): Jenks natural breaks'
    ' of the day''s log revenue (intermediate.int_store_orders__city_revenue) into STORE_ORDERS_CITY_TIERS'
    ' tiers (default 5); 1 = the highest revenues, numbered without gaps, equal revenues in the same tier.';
"""

ORDERS_SHEET = Table(
    name="orders_sheet",
    patterns=("*.xlsx",),
    sheet="DATA",
    required=("order_id", "order_time_pst", "city_district_id", "rptg_amt", "currency_cd", "order_qty"),
)
CITY_DISTRICT_MAP = Table(
    name="city_district_map",
    patterns=("*.xlsx",),
    sheet="CITY_DISTRICT_MAP",
    required=("city_district_id", "ship_to_city_cd", "ship_to_district_name"),
)
ORDERS_JSON = Table(
    name="orders_json",
    patterns=("*.json",),
    required=(
        "order_id", "order_time_pst", "ship_to_district_name", "ship_to_city_cd", "rptg_amt", "currency_cd",
        "order_qty",
    ),
)  # fmt: skip

REPORT = (
    ReportSection(
        title="marts.store_city_summary on {date}: the top 10 cities by revenue (RMB)",
        mart="store_city_summary",
        date_column="order_date",
        query="select city_en, province_en, districts, revenue_rmb, orders, avg_order_value, sales_tier, official_tier"
        " from marts.store_city_summary where order_date = %(date)s order by revenue_rmb desc, city_code limit 10",
        headers=("city", "province", "districts", "revenue_rmb", "orders", "aov", "sales_tier", "official_tier"),
    ),
    ReportSection(
        title="marts.store_city_tiers on {date}",
        mart="store_city_tiers",
        date_column="order_date",
        query="select tier, cities, min_revenue, max_revenue, revenue_share"
        " from marts.store_city_tiers where order_date = %(date)s order by tier",
        headers=("tier", "cities", "min_revenue", "max_revenue", "revenue_share"),
    ),
)

SOURCE = Source(
    name="store_orders",
    tables=(ORDERS_SHEET, CITY_DISTRICT_MAP, ORDERS_JSON),
    description="store orders across Chinese cities (XLSX and JSON); sales by city, district and hour, city tiers",
    dag_ids=("store_orders_daily",),
    generator="elt.generate.store_orders:generate_store_orders",
    report=REPORT,
    ddl=fx_rates_ddl(FX_RATES_TABLE) + CITY_TIERS_DDL,
)
