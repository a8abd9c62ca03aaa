"""Customer segmentation (k-means) against a real warehouse: the mart it reads is made here, not by dbt."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from elt import segmentation, warehouse
from elt.segmentation import FEATURES, MEAN_DECIMALS, cluster_customers
from elt.warehouse import ServerParams

DAY1, DAY2, DAY3 = date(2024, 9, 1), date(2024, 9, 8), date(2024, 9, 15)

SEGMENTS_DDL = """
create table marts.customer_segments (
    as_of_date date not null,
    user_id bigint not null,
    age int,
    gender text,
    country text,
    state text,
    nearest_distribution_center_id bigint,
    nearest_distribution_center text,
    distance_km numeric,
    items_last_year int,
    returned_items_last_year int,
    return_rate numeric,
    spend_last_year numeric,
    profit_level text,
    margin_last_year numeric,
    recency_days int,
    frequency_orders_last_year int,
    r_score int,
    f_score int,
    m_score int,
    clv_estimate numeric,
    primary key (as_of_date, user_id)
)
"""

# Three well-separated groups of buyers: (customers, recency_days, orders, spend, margin, items, return_rate, km).
BLOBS = {
    "top": (40, 10, 12, 2000, 800, 30, 0.05, 50),
    "middle": (60, 90, 5, 500, 200, 10, 0.20, 500),
    "lapsing": (50, 300, 1, 80, 30, 2, 0.50, 2000),
}
NON_BUYERS = 20
ROW_DEFAULTS = {
    "age": 35,
    "gender": "F",
    "country": "Brasil",
    "state": "Acre",
    "nearest_distribution_center_id": 1,
    "nearest_distribution_center": "Memphis TN",
    "returned_items_last_year": 0,
    "profit_level": "medium",
    "clv_estimate": Decimal("100.00"),
}
COLUMNS = ("as_of_date", "user_id", *ROW_DEFAULTS, *FEATURES, "r_score", "f_score", "m_score")


def unknown_location(blob: str, i: int) -> bool:
    """A few buyers without a distance: clustered all the same, at the median distance (the middle blob's).

    Only one outside the middle blob: every customer of unknown location lands at the same median distance,
    so many of them in an outer blob would rightly form a group of their own.
    """
    return (blob == "middle" and i % 10 == 3) or (blob == "top" and i == 0)


def make_customers(seed: int = 7) -> tuple[list[dict], dict[int, str]]:
    """Rows of customer_segments (the blobs' buyers with shuffled user ids, then non-buyers) and each buyer's blob."""
    rng = np.random.default_rng(seed)
    total = sum(b[0] for b in BLOBS.values()) + NON_BUYERS
    ids = iter(rng.permutation(np.arange(1000, 1000 + total)).tolist())
    rows: list[dict] = []
    blob_of: dict[int, str] = {}
    for name, (count, recency, orders, spend, margin, items, return_rate, km) in BLOBS.items():
        for i in range(count):
            user_id = next(ids)
            blob_of[user_id] = name
            noise = rng.normal(0, 0.03, size=7)  # 3% of the centre: the blobs never touch
            rows.append(
                {
                    "user_id": user_id,
                    "recency_days": round(recency * (1 + noise[0])),
                    "frequency_orders_last_year": max(1, round(orders * (1 + noise[1]))),
                    "spend_last_year": Decimal(f"{spend * (1 + noise[2]):.2f}"),
                    "margin_last_year": Decimal(f"{margin * (1 + noise[3]):.2f}"),
                    "items_last_year": round(items * (1 + noise[4])),
                    "return_rate": Decimal(f"{return_rate * (1 + noise[5]):.4f}"),
                    "distance_km": None if unknown_location(name, i) else Decimal(f"{km * (1 + noise[6]):.3f}"),
                    "r_score": 3,
                }
            )
    for _ in range(NON_BUYERS):  # no purchase in the last year: never clustered, whatever their other values
        rows.append({"user_id": next(ids), "distance_km": Decimal("99999"), "items_last_year": 0, "r_score": None})
    return rows, blob_of


def insert_segments(as_of: date, rows: list[dict]) -> None:
    with warehouse.connect() as conn:
        conn.execute(SEGMENTS_DDL.replace("create table", "create table if not exists"))
        with conn.cursor() as cur:
            names = ", ".join(COLUMNS)
            with cur.copy(f"copy marts.customer_segments ({names}) from stdin") as copy:
                for row in rows:
                    values = {**ROW_DEFAULTS, **row, "as_of_date": as_of}
                    copy.write_row(tuple(values.get(c) for c in COLUMNS))


def clusters(as_of: date) -> dict[int, int]:
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select user_id, cluster from marts.customer_clusters where as_of_date = %s order by user_id", (as_of,)
        ).fetchall()
    assert len(rows) == len({r[0] for r in rows})
    return dict(rows)


def profiles(as_of: date) -> list[dict]:
    with warehouse.connect() as conn:
        cur = conn.execute(
            "select * from marts.customer_cluster_profiles where as_of_date = %s order by cluster", (as_of,)
        )
        names = [d.name for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def everything() -> tuple[list[tuple], list[tuple]]:
    with warehouse.connect() as conn:
        return (
            conn.execute("select * from marts.customer_clusters order by as_of_date, user_id").fetchall(),
            conn.execute("select * from marts.customer_cluster_profiles order by as_of_date, cluster").fetchall(),
        )


def rounded_mean(values: list, decimals: int) -> Decimal | None:
    """The mean of the non-null values, rounded half away from zero like Postgres' round(numeric)."""
    present = [Decimal(v) for v in values if v is not None]
    if not present:
        return None
    return (sum(present) / len(present)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@pytest.fixture
def customers(warehouse_params: ServerParams) -> tuple[list[dict], dict[int, str]]:
    rows, blob_of = make_customers()
    insert_segments(DAY1, rows)
    return rows, blob_of


def test_silhouette_finds_the_blobs_and_profiles_match_the_clusters(customers: tuple[list[dict], dict]) -> None:
    rows, blob_of = customers
    result = cluster_customers(DAY1)

    assert (result.as_of, result.customers, result.k) == (DAY1, len(blob_of), 3)
    assert result.silhouette is not None and result.silhouette > 0.7
    assigned = clusters(DAY1)
    assert set(assigned) == set(blob_of)  # every buyer exactly once, no non-buyer
    # each blob is one cluster, numbered by spend: the top spenders are cluster 1
    assert {blob: {assigned[u] for u, b in blob_of.items() if b == blob} for blob in BLOBS} == {
        "top": {1},
        "middle": {2},
        "lapsing": {3},
    }
    sizes = Counter(assigned.values())
    assert result.sizes == {1: 40, 2: 60, 3: 50} == dict(sizes)

    by_cluster: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if row["user_id"] in assigned:
            by_cluster[assigned[row["user_id"]]].append(row)
    got = profiles(DAY1)
    assert [p["cluster"] for p in got] == [1, 2, 3]
    assert sum(p["customers"] for p in got) == len(blob_of)
    for profile in got:
        members = by_cluster[profile["cluster"]]
        assert profile["customers"] == sizes[profile["cluster"]] == len(members)
        share = Decimal(len(members)) / len(blob_of)
        assert profile["share_of_customers"] == share.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        for feature in FEATURES:
            expected = rounded_mean([m[feature] for m in members], MEAN_DECIMALS.get(feature, 2))
            assert profile[f"{feature}_mean"] == expected, (profile["cluster"], feature)
    spend = [p["spend_last_year_mean"] for p in got]
    assert spend == sorted(spend, reverse=True)


def test_explicit_k_is_respected_and_cluster_1_spends_most(customers: tuple[list[dict], dict[int, str]]) -> None:
    _, blob_of = customers
    for k in (2, 5):
        result = cluster_customers(DAY1, k=k)
        assigned = clusters(DAY1)
        assert result.k == k and sorted(set(assigned.values())) == list(range(1, k + 1))
        assert set(assigned) == set(blob_of)
        got = profiles(DAY1)
        assert [p["cluster"] for p in got] == list(range(1, k + 1))
        spend = [p["spend_last_year_mean"] for p in got]
        assert spend[0] == max(spend) and spend == sorted(spend, reverse=True)
    with pytest.raises(ValueError, match="at least 2"):
        cluster_customers(DAY1, k=1)


def test_reruns_are_deterministic_replace_their_date_and_leave_others_alone(
    customers: tuple[list[dict], dict[int, str]],
) -> None:
    rows, _ = customers
    insert_segments(DAY2, rows[::2])
    cluster_customers(DAY1)
    cluster_customers(DAY2)
    before = everything()

    cluster_customers(DAY1, k=2)  # a different result for DAY1 in between
    assert everything()[0] != before[0]
    assert [r for r in everything()[0] if r[0] == DAY2] == [r for r in before[0] if r[0] == DAY2]
    cluster_customers(DAY1)
    cluster_customers(DAY1)
    assert everything() == before


def test_too_few_customers_writes_nothing_and_does_not_raise(customers: tuple[list[dict], dict[int, str]]) -> None:
    rows, blob_of = customers
    buyer = next(r for r in rows if r["r_score"] is not None)
    non_buyers = [r for r in rows if r["r_score"] is None]
    insert_segments(DAY2, rows)
    cluster_customers(DAY2)
    assert len(clusters(DAY2)) == len(blob_of)
    with warehouse.connect() as conn:  # the mart of DAY2 is rebuilt with a single buyer
        conn.execute("delete from marts.customer_segments where as_of_date = %s", (DAY2,))
    insert_segments(DAY2, [buyer, *non_buyers])

    result = cluster_customers(DAY2)
    assert (result.customers, result.k, result.silhouette, result.sizes) == (1, 0, None, {})
    assert clusters(DAY2) == {} and profiles(DAY2) == []  # the old rows of the date are gone
    assert cluster_customers(DAY3).customers == 0  # a date the mart does not have
    twins = [{**buyer, "user_id": user_id} for user_id in (1, 2, 3)]  # 3 buyers, 1 distinct feature row
    insert_segments(DAY3, twins)
    assert cluster_customers(DAY3).k == 0 and clusters(DAY3) == {}


def test_k_is_capped_at_the_distinct_customers(warehouse_params: ServerParams) -> None:
    rows, _ = make_customers()
    buyers = [r for r in rows if r["r_score"] is not None]
    three = [buyers[0], buyers[1], {**buyers[1], "user_id": 1}, buyers[-1]]  # 4 buyers, 3 distinct rows
    insert_segments(DAY1, three)
    result = cluster_customers(DAY1, k=6)
    assert result.k == 3 and sorted(result.sizes.values()) == [1, 1, 2]
    assert clusters(DAY1)[1] == clusters(DAY1)[buyers[1]["user_id"]]  # the twins share a cluster
    assert cluster_customers(DAY1).k in (2, 3)  # by silhouette, among the k the data allows


def test_profile_columns_follow_the_features(warehouse_params: ServerParams) -> None:
    with warehouse.connect() as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'customer_cluster_profiles' order by ordinal_position"
            ).fetchall()
        ]
    assert columns == ["as_of_date", "cluster", "customers", "share_of_customers", *(f"{f}_mean" for f in FEATURES)]


def test_silhouette_is_undefined_when_its_sample_misses_a_tiny_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segmentation, "SILHOUETTE_SAMPLE", 50)
    points = np.random.default_rng(1).normal(size=(1000, 2))
    labels = np.zeros(1000, dtype=int)
    labels[[17, 503]] = 1  # two outliers: a 50-customer sample rarely holds one
    sampled = np.random.default_rng(42).choice(1000, 50, replace=False)
    assert not set(sampled) & {17, 503}
    assert segmentation._silhouette(points, labels, seed=42) is None
    labels[sampled[:25]] = 1
    assert segmentation._silhouette(points, labels, seed=42) is not None
