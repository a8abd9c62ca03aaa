"""Weekly customer segmentation: k-means over the buyers of `marts.customer_segments`, as of a date.

The run for `as_of` reads the customers who bought in the year before it (`r_score is not null`),
scales their FEATURES, clusters them with k-means (k given, or chosen by silhouette score over
K_RANGE) and writes `marts.customer_clusters` (one row per customer) and
`marts.customer_cluster_profiles` (size and feature means per cluster), both created by
`warehouse.bootstrap()`. Clusters are numbered 1..k by descending mean spend, so cluster 1 is always
the top spenders. A fixed seed makes a run deterministic, and the run replaces that date's rows in
one transaction: a re-run gives the same rows, never duplicates, and leaves other dates alone.

scikit-learn takes about 4 s to import, so it is imported inside the functions that use it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import psycopg
from psycopg import sql

from elt import warehouse
from elt.load import partition_lock

log = logging.getLogger(__name__)

# The columns of marts.customer_segments the clusters are built from, in this order. Each one is
# standardised (zero mean, unit variance) so that none dominates by its unit. A null distance_km
# (a customer whose location is unknown) is replaced by the median distance of that date's buyers,
# so it does not pull the customer towards any cluster; any other null feature is filled the same way.
FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency_orders_last_year",
    "spend_last_year",
    "margin_last_year",
    "items_last_year",
    "return_rate",
    "distance_km",
)
# Decimals of a feature's mean in customer_cluster_profiles (2 unless listed).
MEAN_DECIMALS = {"return_rate": 4}
# The values of k tried when none is given: the one with the highest silhouette wins (the smallest on a tie).
# More than 6 segments is more than a marketing team acts on.
K_RANGE = range(2, 7)
# Silhouette is quadratic in the customers: it is computed on a fixed-seed sample of at most this many.
SILHOUETTE_SAMPLE = 5000
N_INIT = 10

CLUSTERS_TABLE = sql.Identifier("marts", "customer_clusters")
PROFILES_TABLE = sql.Identifier("marts", "customer_cluster_profiles")


@dataclass(frozen=True)
class SegmentationResult:
    """What one run wrote: k is 0 and sizes empty when there was too little to cluster."""

    as_of: date
    customers: int
    k: int
    silhouette: float | None
    sizes: dict[int, int] = field(default_factory=dict)  # cluster (1 = top spenders) -> customers


def _read_buyers(conn: psycopg.Connection, as_of: date) -> tuple[np.ndarray, np.ndarray]:
    """User ids and the raw feature matrix (NaN for null) of the date's buyers, ordered by user id."""
    columns = sql.SQL(", ").join(sql.SQL("{}::float8").format(sql.Identifier(f)) for f in FEATURES)
    rows = conn.execute(
        sql.SQL(
            "select user_id, {} from marts.customer_segments"
            " where as_of_date = %s and r_score is not null order by user_id"
        ).format(columns),
        (as_of,),
    ).fetchall()
    user_ids = np.array([r[0] for r in rows], dtype=np.int64)
    features = np.array([r[1:] for r in rows], dtype=np.float64).reshape(len(rows), len(FEATURES))
    return user_ids, features


def _fill_nulls(features: np.ndarray) -> np.ndarray:
    """Each feature's nulls replaced by its median (0 when the whole column is null)."""
    filled = features.copy()
    for j in range(filled.shape[1]):
        missing = np.isnan(filled[:, j])
        if missing.any():
            filled[missing, j] = 0.0 if missing.all() else float(np.median(filled[~missing, j]))
    return filled


def _silhouette(scaled: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
    """Silhouette score on a fixed-seed sample of at most SILHOUETTE_SAMPLE customers.

    None when it is undefined: fewer than 2 clusters in the sample (a tiny cluster of outliers can miss
    it) or every customer alone in its cluster.
    """
    from sklearn.metrics import silhouette_score

    if len(labels) > SILHOUETTE_SAMPLE:
        sample = np.sort(np.random.default_rng(seed).choice(len(labels), SILHOUETTE_SAMPLE, replace=False))
        scaled, labels = scaled[sample], labels[sample]
    if not 2 <= len(np.unique(labels)) < len(labels):
        return None
    return float(silhouette_score(scaled, labels))


def _kmeans(scaled: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, random_state=seed, n_init=N_INIT).fit_predict(scaled)


def _fit(scaled: np.ndarray, k: int | None, distinct: int, seed: int) -> tuple[np.ndarray, float | None]:
    """Labels and silhouette for k, or for the k of K_RANGE with the best silhouette."""
    if k is not None:
        labels = _kmeans(scaled, k, seed)
        return labels, _silhouette(scaled, labels, seed)
    best: tuple[np.ndarray, float | None] | None = None
    for candidate in (c for c in K_RANGE if c <= distinct):  # distinct >= 2 = min(K_RANGE): never empty
        labels = _kmeans(scaled, candidate, seed)
        score = _silhouette(scaled, labels, seed)
        log.info("k=%d: silhouette %s", candidate, "undefined" if score is None else f"{score:.4f}")
        if best is None or (score is not None and (best[1] is None or score > best[1])):
            best = labels, score
    assert best is not None
    return best


def _relabel(labels: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Clusters numbered 1..k by descending mean spend; a tie goes to the cluster whose first customer comes first."""
    raw, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    mean_spend = np.bincount(inverse, weights=spend) / np.bincount(inverse)
    order = sorted(range(len(raw)), key=lambda i: (-mean_spend[i], first[i]))
    number = np.empty(len(raw), dtype=np.int64)
    number[order] = np.arange(1, len(raw) + 1)
    return number[inverse]


def _write(conn: psycopg.Connection, as_of: date, user_ids: np.ndarray, clusters: np.ndarray) -> None:
    """COPY the clusters, then compute the profiles in SQL from the mart and the clusters just written."""
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("copy {} (as_of_date, user_id, cluster) from stdin").format(CLUSTERS_TABLE)) as copy:
            for user_id, cluster in zip(user_ids.tolist(), clusters.tolist(), strict=True):
                copy.write_row((as_of, user_id, cluster))
    means = [
        sql.SQL("round(avg(s.{}), {})").format(sql.Identifier(f), sql.Literal(MEAN_DECIMALS.get(f, 2)))
        for f in FEATURES
    ]
    conn.execute(
        sql.SQL(
            "insert into {profiles} (as_of_date, cluster, customers, share_of_customers, {mean_columns})"
            " select c.as_of_date, c.cluster, count(*),"
            " round(count(*)::numeric / sum(count(*)) over (), 4), {means}"
            " from {clusters} c join marts.customer_segments s using (as_of_date, user_id)"
            " where c.as_of_date = %s group by c.as_of_date, c.cluster"
        ).format(
            profiles=PROFILES_TABLE,
            mean_columns=sql.SQL(", ").join(sql.Identifier(f"{f}_mean") for f in FEATURES),
            means=sql.SQL(", ").join(means),
            clusters=CLUSTERS_TABLE,
        ),
        (as_of,),
    )


def cluster_customers(
    as_of: date, params: warehouse.ServerParams | None = None, k: int | None = None, seed: int = 42
) -> SegmentationResult:
    """Cluster the buyers of `marts.customer_segments` as of `as_of` and replace that date's clusters and profiles.

    `k` is the number of clusters (at least 2, capped at the number of distinct customers' feature rows);
    None chooses it by silhouette over K_RANGE. With fewer than 2 distinct buyers the date is left empty.
    """
    if k is not None and k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    clock = time.monotonic()
    with warehouse.connect(params) as conn:
        with conn.transaction():
            partition_lock(conn, "marts", "customer_clusters", as_of)
            user_ids, features = _read_buyers(conn, as_of)
            conn.execute(sql.SQL("delete from {} where as_of_date = %s").format(PROFILES_TABLE), (as_of,))
            conn.execute(sql.SQL("delete from {} where as_of_date = %s").format(CLUSTERS_TABLE), (as_of,))
            filled = _fill_nulls(features)
            distinct = len(np.unique(filled, axis=0)) if len(filled) else 0
            if distinct < 2:
                log.warning(
                    "customer segmentation %s: %d buyer(s) with %d distinct feature row(s); at least 2 are needed"
                    " to cluster, so no clusters are written for this date",
                    as_of,
                    len(user_ids),
                    distinct,
                )
                return SegmentationResult(as_of, len(user_ids), 0, None)
            if k is not None and k > distinct:
                log.warning(
                    "customer segmentation %s: k=%d asked but only %d distinct customers; using k=%d",
                    as_of,
                    k,
                    distinct,
                    distinct,
                )
                k = distinct
            scaled = StandardScaler().fit_transform(filled)
            # One thread (OpenMP and BLAS): k-means on 7 features is cheap per pass, and OpenMP's barriers
            # stall when another process holds a core (on 2 cores next to a busy task, 2 threads measured
            # 4-7x slower than 1; on an idle machine 1 thread costs about 1 s more at 100k customers).
            with threadpool_limits(limits=1):
                labels, silhouette = _fit(scaled, k, distinct, seed)
            clusters = _relabel(labels, filled[:, FEATURES.index("spend_last_year")])
            _write(conn, as_of, user_ids, clusters)
    sizes = dict(enumerate(np.bincount(clusters)[1:].tolist(), start=1))
    log.info(
        "customer segmentation %s: %s customers in k=%d clusters (silhouette %s), sizes %s, in %.1f s",
        as_of,
        f"{len(user_ids):,}",
        len(sizes),
        "undefined" if silhouette is None else f"{silhouette:.3f}",
        sizes,
        time.monotonic() - clock,
    )
    return SegmentationResult(as_of, len(user_ids), len(sizes), silhouette, sizes)
