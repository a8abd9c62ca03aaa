"""Merchant app subscriptions: daily full snapshots of the stores' install and subscription histories, and of the
merchants' branch transactions, customers, products and support conversations (CSV).

`dataset_sample.csv` holds one row per store with two JSON arrays in CSV cells (`installHistory`,
`subscriptionHistory`); headers become identifiers without word breaks (`installHistory` is `installhistory`).
Every file of a day is the whole history as known that day (`snapshot`: an unchanged file on the next day is that
day's snapshot, not a duplicate): a partition replaces the day, and the marts of a run read its own day's snapshot
only. Times are local times without a zone, in SUBSCRIPTIONS_TIMEZONE (default UTC),
or SUBSCRIPTIONS_TIMEZONE_<TABLE> for one file (e.g. SUBSCRIPTIONS_TIMEZONE_TRANSACTIONS).
"""

from elt.sources import ReportSection, Source, Table

STORES = Table(
    name="stores",
    patterns=("dataset_sample*.csv", "dataset_sample*.csv.gz"),
    snapshot=True,
    required=("store_id", "installhistory", "subscriptionhistory"),
)
TRANSACTIONS = Table(
    name="transactions",
    patterns=("transaction*.csv", "transaction*.csv.gz"),
    snapshot=True,
    required=(
        "transaction_id", "orderdate", "branchid", "branchname", "customer_id", "totalamount", "status",
        "statusvalue", "product_id", "price",
    ),
)  # fmt: skip
CUSTOMERS = Table(
    name="customers",
    patterns=("customerdb*.csv", "customerdb*.csv.gz"),
    snapshot=True,
    required=("customer_id", "customer_name", "gender", "birthdate", "region", "email"),
    personal=("customer_name", "birthdate", "email"),
)
PRODUCTS = Table(
    name="products",
    patterns=("product*.csv", "product*.csv.gz"),
    snapshot=True,
    required=("product_id", "name", "categoryid", "categoryname", "baseprice", "unit", "weight", "createddate"),
)
CONVERSATIONS = Table(
    name="conversations",
    patterns=("conversation*.csv", "conversation*.csv.gz"),
    snapshot=True,
    required=("message_id", "conversation_id", "created_at", "has_phone", "phone_info"),
    optional=("store_id", "sender", "message"),
    personal=("phone_info", "message"),
)

REPORT = (
    ReportSection(
        title="marts.store_activity_daily as of {date}: the last 7 days",
        mart="store_activity_daily",
        query="select activity_date, active_stores, new_stores, reactivated_stores, lost_stores, cancelled, closed,"
        " unknown from marts.store_activity_daily where as_of_date = %(date)s"
        " and activity_date > %(date)s::date - 7 order by activity_date",
        headers=("date", "active", "new", "reactivated", "lost", "cancelled", "closed", "unknown"),
    ),
    ReportSection(
        title="marts.subscription_revenue_daily as of {date}: the last 7 days",
        mart="subscription_revenue_daily",
        query="select revenue_date, new_subscriptions, booked_revenue, active_subscriptions,"
        " monthly_recurring_revenue from marts.subscription_revenue_daily where as_of_date = %(date)s"
        " and revenue_date > %(date)s::date - 7 order by revenue_date",
        headers=("date", "new", "booked_revenue", "active", "mrr"),
    ),
    ReportSection(
        title="marts.branch_performance as of {date}: the top 10 branches by revenue",
        mart="branch_performance",
        query="select branch_id, branch_name, revenue, transactions, customers, products, completed_share"
        " from marts.branch_performance where as_of_date = %(date)s order by revenue desc, branch_id limit 10",
        headers=("branch_id", "branch", "revenue", "transactions", "customers", "products", "completed_share"),
    ),
)

SOURCE = Source(
    name="subscriptions",
    tables=(STORES, TRANSACTIONS, CUSTOMERS, PRODUCTS, CONVERSATIONS),
    description="merchant app stores: lifespans, daily active/new/reactivated/lost stores, subscription revenue,"
    " branch performance",
    dag_ids=("subscriptions_daily",),
    generator="elt.generate.subscriptions:generate_subscriptions",
    report=REPORT,
)
