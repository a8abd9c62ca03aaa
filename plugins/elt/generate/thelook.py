"""Deterministic theLook e-commerce CSV exports (BigQuery style), with the quirks of the real exports.

Files land in `<landing>/thelook/<YYYY-MM-DD>/`: the first day gets a full snapshot of ~4 years of history
(all 7 tables); every following day a delta: the rows created that day plus the orders and order items of
earlier days whose status changed that day (shipped, delivered, returned, cancelled), as full rows.

The generator simulates one "world": every order gets its whole life (final status and the times it is
shipped, delivered, returned or cancelled) when it is created; a file shows the world as of the end of its day.

Quirks, at about these rates: timestamps `2024-09-28 22:12:54.000000 UTC` (85% of rows), `...+00:00` (10%)
or without zone (5%); empty = "not yet" for shipped/delivered/returned/sold; `users.city` is the literal
`null` for ~2%; money with float32 noise (`6.9899997711181641`); ~1/3 of shipped items shipped before
they were created; ~1% of returned orders without any shipped/delivered/returned time; ~0.5% of users
share an e-mail; ~0.3% of products without a name or brand; ~1% of the new items of a delta reference a
user of a later day or a product beyond the catalogue; WKT `user_geom`/`distribution_center_geom` in
"newer" exports only. The same seed, days and scale always give byte-identical files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

SOURCE = "thelook"
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id", "first_name", "last_name", "email", "age", "gender", "state", "street_address", "postal_code",
        "city", "country", "latitude", "longitude", "traffic_source", "created_at",
    ),
    "orders": (
        "order_id", "user_id", "status", "gender", "created_at", "returned_at", "shipped_at", "delivered_at",
        "num_of_item",
    ),
    "order_items": (
        "id", "order_id", "user_id", "product_id", "inventory_item_id", "status", "created_at", "shipped_at",
        "delivered_at", "returned_at", "sale_price",
    ),
    "products": (
        "id", "cost", "category", "name", "brand", "retail_price", "department", "sku", "distribution_center_id",
    ),
    "inventory_items": (
        "id", "product_id", "created_at", "sold_at", "cost", "product_category", "product_name", "product_brand",
        "product_retail_price", "product_department", "product_sku", "product_distribution_center_id",
    ),
    "distribution_centers": ("id", "name", "latitude", "longitude"),
    "events": (
        "id", "user_id", "sequence_number", "session_id", "created_at", "ip_address", "city", "state",
        "postal_code", "browser", "traffic_source", "uri", "event_type",
    ),
}  # fmt: skip
GEOM_COLUMNS = {"users": "user_geom", "distribution_centers": "distribution_center_geom"}
GEOM_SINCE = date(2024, 1, 1)  # a snapshot of a later day is a "newer" export, with WKT geometry columns

FULL_VOLUMES = {
    "users": 100_000,
    "orders": 125_000,
    "inventory_items": 490_000,
    "products": 29_000,
    "events": 2_400_000,
}
MIN_PRODUCTS = 100
HISTORY_DAYS = 4 * 365
DAY_S = 86_400
EPOCH = date(1970, 1, 1).toordinal()

STATUSES = ("Complete", "Shipped", "Processing", "Cancelled", "Returned")
COMPLETE, SHIPPED, PROCESSING, CANCELLED, RETURNED = range(5)
STATUS_WEIGHTS = (0.25, 0.30, 0.20, 0.15, 0.10)
ITEMS_PER_ORDER_WEIGHTS = (0.70, 0.20, 0.07, 0.03)  # 1-4 items: ~1.43 per order (180k items / 125k orders)
ITEM_STATUS_DIFFERS_RATE = 0.05
TS_FORMAT_WEIGHTS = (0.85, 0.10, 0.05)  # `... .000000 UTC`, `...+00:00`, no zone
NULL_CITY_RATE = 0.02
SHARED_EMAIL_RATE = 0.005
EMPTY_PRODUCT_TEXT_RATE = 0.003
SHIPPED_BEFORE_CREATED_RATE = 1 / 3
RETURNED_WITHOUT_TIMES_RATE = 0.01
OUT_OF_ORDER_RATE = 0.01
GUEST_SESSION_RATE = 0.3

DISTRIBUTION_CENTERS = (
    ("Memphis TN", 35.1174, -89.9711),
    ("Chicago IL", 41.8369, -87.6847),
    ("Houston TX", 29.7604, -95.3698),
    ("Los Angeles CA", 34.0500, -118.2500),
    ("New Orleans LA", 29.9500, -90.0667),
    ("Port Authority of New York/New Jersey NY/NJ", 40.6340, -73.7834),
    ("Philadelphia PA", 39.9500, -75.1667),
    ("Mobile AL", 30.6944, -88.0431),
    ("Charleston SC", 32.7833, -79.9333),
    ("Savannah GA", 32.0167, -81.1167),
)
# country, share of users, postal code pattern (# digit, A letter), cities (name, state, latitude, longitude)
COUNTRIES: tuple[tuple[str, float, str, tuple[tuple[str, str, float, float], ...]], ...] = (
    ("China", 0.34, "######", (("Shanghai", "Shanghai", 31.23, 121.47), ("Beijing", "Beijing", 39.90, 116.41),
     ("Guangzhou", "Guangdong", 23.13, 113.26), ("Shenzhen", "Guangdong", 22.54, 114.06),
     ("Chengdu", "Sichuan", 30.57, 104.07), ("Wuhan", "Hubei", 30.59, 114.31))),
    ("United States", 0.22, "#####", (("New York", "New York", 40.71, -74.01), ("Los Angeles", "California", 34.05,
     -118.24), ("Chicago", "Illinois", 41.88, -87.63), ("Houston", "Texas", 29.76, -95.37),
     ("Seattle", "Washington", 47.61, -122.33), ("Miami", "Florida", 25.76, -80.19))),
    ("Brasil", 0.145, "#####-###", (("São Paulo", "São Paulo", -23.55, -46.63), ("Rio de Janeiro", "Rio de Janeiro",
     -22.91, -43.17), ("Belo Horizonte", "Minas Gerais", -19.92, -43.94), ("Curitiba", "Paraná", -25.43, -49.27),
     ("Fortaleza", "Ceará", -3.73, -38.52))),
    ("South Korea", 0.053, "#####", (("Seoul", "Seoul", 37.57, 126.98), ("Busan", "Busan", 35.18, 129.08),
     ("Incheon", "Incheon", 37.46, 126.71), ("Daegu", "Daegu", 35.87, 128.60))),
    ("France", 0.047, "#####", (("Paris", "Île-de-France", 48.86, 2.35), ("Lyon", "Auvergne-Rhône-Alpes", 45.76,
     4.84), ("Marseille", "Provence-Alpes-Côte d'Azur", 43.30, 5.37), ("Toulouse", "Occitanie", 43.60, 1.44))),
    ("United Kingdom", 0.046, "AA# #AA", (("London", "England", 51.51, -0.13), ("Manchester", "England", 53.48,
     -2.24), ("Edinburgh", "Scotland", 55.95, -3.19), ("Cardiff", "Wales", 51.48, -3.18))),
    ("Germany", 0.043, "#####", (("Berlin", "Berlin", 52.52, 13.40), ("München", "Bayern", 48.14, 11.58),
     ("Köln", "Nordrhein-Westfalen", 50.94, 6.96), ("Hamburg", "Hamburg", 53.55, 9.99))),
    ("España", 0.04, "#####", (("Madrid", "Madrid", 40.42, -3.70), ("Barcelona", "Barcelona", 41.39, 2.17),
     ("Sevilla", "Andalucía", 37.39, -5.98), ("Málaga", "Andalucía", 36.72, -4.42))),
    ("Japan", 0.025, "###-####", (("Tokyo", "Tokyo", 35.68, 139.69), ("Ōsaka", "Osaka", 34.69, 135.50),
     ("Akita", "Akita", 39.72, 140.10), ("Sapporo", "Hokkaido", 43.06, 141.35))),
    ("Australia", 0.022, "####", (("Sydney", "New South Wales", -33.87, 151.21), ("Melbourne", "Victoria", -37.81,
     144.96), ("Brisbane", "Queensland", -27.47, 153.03), ("Perth", "Western Australia", -31.95, 115.86))),
    ("Belgium", 0.012, "####", (("Bruxelles", "Brussels", 50.85, 4.35), ("Antwerpen", "Flanders", 51.22, 4.40),
     ("Liège", "Wallonia", 50.63, 5.57))),
    ("Poland", 0.003, "##-###", (("Warszawa", "Mazowieckie", 52.23, 21.01), ("Kraków", "Małopolskie", 50.06,
     19.94), ("Wrocław", "Dolnośląskie", 51.11, 17.04), ("Gdańsk", "Pomorskie", 54.35, 18.65))),
    ("Colombia", 0.002, "######", (("Bogotá", "Bogotá", 4.71, -74.07), ("Medellín", "Antioquia", 6.24, -75.58),
     ("Cali", "Valle del Cauca", 3.45, -76.53))),
    ("Austria", 0.002, "####", (("Wien", "Wien", 48.21, 16.37), ("Graz", "Steiermark", 47.07, 15.44),
     ("Linz", "Oberösterreich", 48.31, 14.29), ("Salzburg", "Salzburg", 47.81, 13.06))),
)  # fmt: skip
FIRST_NAMES = (
    ("Mary", "Jennifer", "Emma", "Olivia", "Ana", "María", "Beatriz", "Li", "Yuki", "Sakura", "Zoë", "Małgorzata",
     "Chloé", "Ji-woo", "Lucía", "Sofía", "Hannah", "Charlotte", "Isabella", "Mei"),
    ("James", "John", "Michael", "David", "Daniel", "Lucas", "Matheus", "José", "João", "Wei", "Hiroshi", "Jürgen",
     "Łukasz", "François", "Seo-jun", "Pablo", "Andrés", "Thomas", "Oliver", "Liam"),
)  # fmt: skip  # by gender: F, M
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Silva", "Santos", "Oliveira", "Müller", "Schmidt",
    "Wang", "Li", "Zhang", "Chen", "Sato", "Suzuki", "Kim", "Lee", "Park", "Martin", "Dubois", "Fernández", "López",
    "Nowak", "Kowalski", "Wiśniewski", "Peeters", "Gruber", "Rodríguez", "Taylor", "Wilson",
)  # fmt: skip
STREETS = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Augusta", "Mayor", "Hauptstraße", "Rivoli", "Zürich", "Floriańska",
    "Nanjing", "Gangnam", "Chūō", "Park", "Lake", "Hill", "Sunset",
)  # fmt: skip
STREET_SUFFIXES = ("Street", "Avenue", "Road", "Lane", "Drive", "Way")
USER_TRAFFIC = (("Search", "Organic", "Facebook", "Email", "Display"), (0.70, 0.15, 0.06, 0.05, 0.04))
EVENT_TRAFFIC = (("Email", "Adwords", "Facebook", "YouTube", "Organic"), (0.45, 0.30, 0.10, 0.10, 0.05))
BROWSERS = (("Chrome", "Firefox", "Safari", "IE", "Other"), (0.50, 0.20, 0.20, 0.05, 0.05))
# department, category, typical retail price, nouns of product names
CATEGORIES = (
    ("Women", "Intimates", 25.0, ("Bra", "Panty", "Bralette")), ("Women", "Dresses", 70.0, ("Dress", "Maxi Dress")),
    ("Women", "Tops & Tees", 30.0, ("Tee", "Blouse", "Tank")), ("Women", "Jeans", 80.0, ("Skinny Jean", "Jean")),
    ("Women", "Swim", 45.0, ("Bikini", "Swimsuit")), ("Women", "Sweaters", 60.0, ("Cardigan", "Pullover")),
    ("Women", "Leggings", 30.0, ("Legging",)), ("Women", "Accessories", 20.0, ("Scarf", "Belt", "Hat")),
    ("Men", "Jeans", 85.0, ("Slim Jean", "Relaxed Jean")), ("Men", "Outerwear & Coats", 140.0, ("Parka", "Jacket")),
    ("Men", "Fashion Hoodies & Sweatshirts", 55.0, ("Hoodie", "Sweatshirt")), ("Men", "Socks", 12.0, ("Sock",)),
    ("Men", "Suits & Sport Coats", 220.0, ("Suit", "Blazer")), ("Men", "Shorts", 35.0, ("Short", "Board Short")),
    ("Men", "Underwear", 20.0, ("Boxer Brief", "Trunk")), ("Men", "Sleep & Lounge", 40.0, ("Pajama Set", "Robe")),
)  # fmt: skip
BRANDS = (
    "Calvin Klein", "Levi's", "Carhartt", "Hanes", "Nike", "Columbia", "Tommy Hilfiger", "Ralph Lauren", "Allegra K",
    "Fruit of the Loom", "Speedo", "Dickies", "Quiksilver", "Volcom", "Lacoste", "Champion", "Wrangler", "Puma",
    "Adidas", "Under Armour", "Hurley", "Billabong", "Guess", "Diesel", "Gildan", "Jockey", "Izod", "Hugo Boss",
    "Façonnable", "Chloé", "Zürich Outdoor", "Kraków Wear",
)  # fmt: skip
ADJECTIVES = ("Classic", "Slim Fit", "Cotton", "Vintage", "Essential", "Stretch", "Premium", "Relaxed", "Soft")
EVENT_TYPES = ("home", "department", "product", "cart", "purchase", "cancel")
HOME, DEPARTMENT, PRODUCT, CART, PURCHASE, CANCEL = range(6)
SESSION_TEMPLATES = (
    ((HOME,), 0.10),
    ((DEPARTMENT, PRODUCT), 0.20),
    ((HOME, DEPARTMENT, PRODUCT, CART), 0.15),
    ((DEPARTMENT, PRODUCT, CART, PURCHASE), 0.20),
    ((HOME, DEPARTMENT, PRODUCT, CART, PURCHASE), 0.15),
    ((PRODUCT, CART, CANCEL), 0.05),
    ((DEPARTMENT, PRODUCT, PRODUCT, CART, PURCHASE), 0.10),
    ((HOME, DEPARTMENT, PRODUCT, CART, CANCEL), 0.05),
)

Cols = dict[str, np.ndarray]

_CITY_NAMES = [city[0] for country in COUNTRIES for city in country[3]]
_CITY_STATES = [city[1] for country in COUNTRIES for city in country[3]]
_CITY_COUNTRY = np.array([i for i, country in enumerate(COUNTRIES) for _ in country[3]])
_CITY_LAT = np.array([city[2] for country in COUNTRIES for city in country[3]])
_CITY_LON = np.array([city[3] for country in COUNTRIES for city in country[3]])
_COUNTRY_FIRST_CITY = np.cumsum([0] + [len(country[3]) for country in COUNTRIES])


def _rng(seed: int, *parts: int) -> np.random.Generator:
    """A random generator that is a function of the seed and the given parts only."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(np.random.SeedSequence([seed, *parts]))


def _weights(values: tuple[float, ...]) -> np.ndarray:
    """Probabilities from weights."""
    array = np.asarray(values, dtype=np.float64)
    return array / array.sum()


def _pick(rng: np.random.Generator, rows: int, rate: float) -> np.ndarray:
    """A mask of exactly round(rows * rate) random rows (at least one when the rate's share is >= 0.5 row)."""
    mask = np.zeros(rows, dtype=bool)
    mask[rng.choice(rows, size=min(rows, round(rows * rate)), replace=False)] = True
    return mask


def _lookup(values: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Strings picked from a vocabulary by index (vectorised)."""
    return pc.take(pa.array(list(values), pa.string()), pa.array(np.asarray(index, dtype=np.int64)))


def _text(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Numbers as text (shortest repr), null where `null` is set."""
    return pa.array(values, mask=null).cast(pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and constants."""
    return pc.binary_join_element_wise(*parts, "")


def _money(values: np.ndarray) -> list[str]:
    """Prices as BigQuery exports its float32-born FLOAT64s: `6.9899997711181641`."""
    return [f"{value:.16g}" for value in np.asarray(values, dtype=np.float32).astype(np.float64)]


def _timestamps(seconds: np.ndarray, fmt: np.ndarray, empty: np.ndarray | None = None) -> pa.Array:
    """Timestamps as text in the row's format (` UTC`, `+00:00` or no zone); null (empty) where `empty`."""
    base = pa.array(seconds.astype("datetime64[s]")).cast(pa.string())
    text = pc.choose(pa.array(fmt), _join(base, ".000000 UTC"), _join(base, "+00:00"), base)
    return text if empty is None else pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text)


def _ts_formats(rng: np.random.Generator, rows: int) -> np.ndarray:
    """The timestamp format of each row: 0 ` UTC`, 1 `+00:00`, 2 no zone."""
    return rng.choice(3, size=rows, p=_weights(TS_FORMAT_WEIGHTS)).astype(np.int8)


def _seconds(day: date) -> int:
    """Seconds since the epoch of the day's midnight (UTC)."""
    return (day.toordinal() - EPOCH) * DAY_S


def _concat(a: Cols, b: Cols) -> Cols:
    """Rows of `b` appended to the rows of `a`."""
    return {key: np.concatenate([a[key], b[key]]) for key in b} if a else b


def _postal_codes(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Postal codes as each country writes them (`01310-000`, `010-0201`, `75001`, `SW4 2AB`)."""
    digits = rng.integers(0, 10, size=(country.shape[0], 10)).astype(np.uint8) + ord("0")
    letters = rng.integers(0, 26, size=(country.shape[0], 10)).astype(np.uint8) + ord("A")
    out = np.empty(country.shape[0], dtype=object)
    for code, (_, _, pattern, _) in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == code)
        if rows.size == 0:
            continue
        chars = np.full((rows.size, len(pattern)), ord(" "), dtype=np.uint8)
        for pos, symbol in enumerate(pattern):
            if symbol == "#":
                chars[:, pos] = digits[rows, pos]
            elif symbol == "A":
                chars[:, pos] = letters[rows, pos]
            else:
                chars[:, pos] = ord(symbol)
        out[rows] = chars.view(f"S{len(pattern)}").ravel().astype(str)
    return pa.array(out, pa.string())


def _slug(name: str) -> str:
    """A name as a uri path segment: `Tops & Tees` -> `tops-tees`."""
    return "-".join(name.lower().replace("&", " ").replace("'", "").split())


@dataclass
class _Catalogue:
    """Products (fixed for a seed) and what other tables copy from them."""

    table: pa.Table
    size: int
    departments: np.ndarray  # uri of each product's department page


def _catalogue(seed: int, scale: float) -> _Catalogue:
    """The product catalogue: at least MIN_PRODUCTS products, 0.3% of them without a name or brand."""
    rng = _rng(seed, 0, 3)
    n = max(MIN_PRODUCTS, round(FULL_VOLUMES["products"] * scale))
    category = rng.integers(0, len(CATEGORIES), n)
    brand = rng.integers(0, len(BRANDS), n)
    adjective = rng.integers(0, len(ADJECTIVES), n)
    noun = rng.integers(0, 6, n)
    base = np.array([c[2] for c in CATEGORIES])[category]
    retail = np.round(base * rng.lognormal(0.0, 0.45, n), 2).clip(0.02)
    cost = retail * rng.uniform(0.35, 0.62, n)
    names = [
        f"{BRANDS[b]} {ADJECTIVES[a]} {CATEGORIES[c][3][k % len(CATEGORIES[c][3])]}"
        for b, a, c, k in zip(brand.tolist(), adjective.tolist(), category.tolist(), noun.tolist(), strict=True)
    ]
    blank = _pick(rng, n, EMPTY_PRODUCT_TEXT_RATE)
    blank_name = blank & (rng.random(n) < 0.5)
    sku = rng.integers(0, 256, size=(n, 16), dtype=np.uint8).tobytes().hex().upper()
    ids = np.arange(1, n + 1)
    table = pa.table(
        {
            "id": _text(ids),
            "cost": pa.array(_money(cost), pa.string()),
            "category": _lookup([c[1] for c in CATEGORIES], category),
            "name": pa.array(names, pa.string(), mask=blank_name),
            "brand": pa.array([BRANDS[b] for b in brand.tolist()], pa.string(), mask=blank & ~blank_name),
            "retail_price": pa.array(_money(retail), pa.string()),
            "department": _lookup([c[0] for c in CATEGORIES], category),
            "sku": pa.array([sku[32 * i : 32 * i + 32] for i in range(n)], pa.string()),
            "distribution_center_id": _text(rng.integers(1, len(DISTRIBUTION_CENTERS) + 1, n)),
        }
    )
    departments = np.array(
        [
            f"/department/{CATEGORIES[c][0].lower()}/category/{_slug(CATEGORIES[c][1])}/brand/{_slug(BRANDS[b])}"
            for c, b in zip(category.tolist(), brand.tolist(), strict=True)
        ],
        dtype=object,
    )
    return _Catalogue(table=table, size=n, departments=departments)


def _distribution_centers(geom: bool) -> pa.Table:
    """The 10 real distribution centres."""
    lat = np.array([c[1] for c in DISTRIBUTION_CENTERS])
    lon = np.array([c[2] for c in DISTRIBUTION_CENTERS])
    columns = {
        "id": _text(np.arange(1, len(DISTRIBUTION_CENTERS) + 1)),
        "name": pa.array([c[0] for c in DISTRIBUTION_CENTERS], pa.string()),
        "latitude": _text(lat),
        "longitude": _text(lon),
    }
    if geom:
        columns["distribution_center_geom"] = _join("POINT(", _text(lon), " ", _text(lat), ")")
    return pa.table(columns)


@dataclass
class _Chunk:
    """What one stretch of time added to the world: row ranges of users/orders/items, inventory and events."""

    users: slice
    orders: slice
    items: slice
    inventory: pa.Table
    events: pa.Table


@dataclass
class _World:
    """Every user, order and order item so far (numeric columns), and the rendered users."""

    seed: int
    scale: float
    catalogue: _Catalogue
    users: Cols = field(default_factory=dict)
    orders: Cols = field(default_factory=dict)
    items: Cols = field(default_factory=dict)
    user_text: pa.Table | None = None
    next_inventory_id: int = 1
    next_event_id: int = 1

    @property
    def n_users(self) -> int:
        return len(self.users["created"]) if self.users else 0

    @property
    def n_orders(self) -> int:
        return len(self.orders["created"]) if self.orders else 0

    @property
    def n_items(self) -> int:
        return len(self.items["created"]) if self.items else 0


def _add_users(world: _World, rng: np.random.Generator, t0: int, t1: int, n: int) -> slice:
    """New users created in [t0, t1), appended to the world (numeric and rendered)."""
    first = world.n_users
    country = rng.choice(len(COUNTRIES), size=n, p=_weights(tuple(c[1] for c in COUNTRIES)))
    sizes = np.diff(_COUNTRY_FIRST_CITY)[country]
    city = _COUNTRY_FIRST_CITY[country] + (rng.random(n) * sizes).astype(np.int64)
    gender = rng.integers(0, 2, n)
    users: Cols = {
        "created": np.sort(rng.integers(t0, t1, n)),
        "city": city,
        "gender": gender,
        "first": rng.integers(0, len(FIRST_NAMES[0]), n),
        "last": rng.integers(0, len(LAST_NAMES), n),
    }
    shared = _pick(rng, n, SHARED_EMAIL_RATE)
    email_of = first + np.arange(n)
    email_of[shared] = (rng.random(int(shared.sum())) * np.maximum(email_of[shared], 1)).astype(np.int64)
    users["email_of"] = email_of
    world.users = _concat(world.users, users)
    latitude = np.round(_CITY_LAT[city] + rng.normal(0, 0.25, n), 8)
    longitude = np.round(_CITY_LON[city] + rng.normal(0, 0.25, n), 8)
    ids = np.arange(first + 1, first + n + 1)
    first_name = pc.choose(
        pa.array(gender), _lookup(FIRST_NAMES[0], users["first"]), _lookup(FIRST_NAMES[1], users["first"])
    )
    src = np.minimum(email_of, first + n - 1)
    all_gender, all_first, all_last = (world.users[k][src] for k in ("gender", "first", "last"))
    email_first = pc.choose(
        pa.array(all_gender), _lookup(FIRST_NAMES[0], all_first), _lookup(FIRST_NAMES[1], all_first)
    )
    tld = _lookup(("com", "org", "net"), src % 3)
    email = pc.utf8_lower(_join(email_first, ".", _lookup(LAST_NAMES, all_last), _text(src + 1), "@example.", tld))
    city_text = pc.if_else(pa.array(_pick(rng, n, NULL_CITY_RATE)), "null", _lookup(_CITY_NAMES, city))
    street = _join(
        _text(rng.integers(1, 9999, n)), " ", _lookup(STREETS, rng.integers(0, len(STREETS), n)), " ",
        _lookup(STREET_SUFFIXES, rng.integers(0, len(STREET_SUFFIXES), n)),
    )  # fmt: skip
    text = pa.table(
        {
            "id": _text(ids),
            "first_name": first_name,
            "last_name": _lookup(LAST_NAMES, users["last"]),
            "email": email,
            "age": _text(rng.integers(12, 71, n)),
            "gender": _lookup(("F", "M"), gender),
            "state": _lookup(_CITY_STATES, city),
            "street_address": street,
            "postal_code": _postal_codes(rng, country),
            "city": city_text,
            "country": _lookup([c[0] for c in COUNTRIES], country),
            "latitude": _text(latitude),
            "longitude": _text(longitude),
            "traffic_source": _lookup(USER_TRAFFIC[0], rng.choice(5, size=n, p=_weights(USER_TRAFFIC[1]))),
            "created_at": _timestamps(users["created"], _ts_formats(rng, n)),
            "user_geom": _join("POINT(", _text(longitude), " ", _text(latitude), ")"),
        }
    )
    world.user_text = text if world.user_text is None else pa.concat_tables([world.user_text, text])
    return slice(first, first + n)


def _user_before(world: _World, rng: np.random.Generator, times: np.ndarray) -> np.ndarray:
    """For each time, a random user (index) created before it (the first user when there is none yet)."""
    known = np.searchsorted(world.users["created"], times, side="right")
    return np.minimum((rng.random(times.shape[0]) * np.maximum(known, 1)).astype(np.int64), world.n_users - 1)


def _add_orders(
    world: _World, rng: np.random.Generator, t0: int, t1: int, n: int, out_of_order: tuple[int, int] | None
) -> tuple[slice, slice]:
    """New orders created in [t0, t1) with their whole life, and their items; appended to the world."""
    created = np.sort(rng.integers(t0, t1, n))
    user = _user_before(world, rng, created)
    ship = created + rng.integers(1800, 3 * DAY_S, n)
    deliver = ship + rng.integers(DAY_S, 5 * DAY_S, n)
    orders: Cols = {
        "created": created,
        "user": user,
        "status": rng.choice(5, size=n, p=_weights(STATUS_WEIGHTS)),
        "ship": ship,
        "deliver": deliver,
        "return": deliver + rng.integers(DAY_S, 10 * DAY_S, n),
        "cancel": created + rng.integers(600, 2 * DAY_S, n),
        "num": rng.choice(4, size=n, p=_weights(ITEMS_PER_ORDER_WEIGHTS)) + 1,
        "fmt": _ts_formats(rng, n),
    }
    orders["blank"] = (orders["status"] == RETURNED) & _pick(rng, n, RETURNED_WITHOUT_TIMES_RATE)
    first_order = world.n_orders
    order = first_order + np.repeat(np.arange(n), orders["num"])
    m = order.shape[0]
    status = np.repeat(orders["status"], orders["num"])
    differs = rng.random(m) < ITEM_STATUS_DIFFERS_RATE
    status[differs] = rng.choice(5, size=int(differs.sum()), p=_weights(STATUS_WEIGHTS))
    item_created = np.repeat(created, orders["num"]) + rng.integers(0, 120, m)
    early = _pick(rng, m, SHIPPED_BEFORE_CREATED_RATE)
    shown_ship = np.where(early, item_created - rng.integers(3600, 3 * DAY_S, m), np.repeat(ship, orders["num"]))
    product = (world.catalogue.size * rng.random(m) ** 1.5).astype(np.int64)
    items: Cols = {
        "order": order,
        "user_id": np.repeat(user, orders["num"]) + 1,
        "product_id": product + 1,
        "product": product,
        "status": status,
        "created": item_created,
        "shown_ship": shown_ship,
        "fmt": _ts_formats(rng, m),
    }
    if out_of_order is not None:  # the export of a later day arrived first: its users and products are unknown yet
        late = rng.random(m) < OUT_OF_ORDER_RATE
        later_user = late & (rng.random(m) < 0.5)
        next_user_id, next_day_users = out_of_order
        items["user_id"][later_user] = next_user_id + rng.integers(0, max(next_day_users, 1), int(later_user.sum()))
        new_product = late & ~later_user
        items["product_id"][new_product] = world.catalogue.size + rng.integers(1, 50, int(new_product.sum()))
    world.orders = _concat(world.orders, orders)
    first_item = world.n_items
    items["inventory"] = np.zeros(m, dtype=np.int64)  # filled in by _add_inventory
    world.items = _concat(world.items, items)
    return slice(first_order, first_order + n), slice(first_item, first_item + m)


def _add_inventory(world: _World, rng: np.random.Generator, t0: int, items: slice, unsold: int, t1: int) -> pa.Table:
    """Inventory: one sold unit per new item (stocked up to 60 days before) and `unsold` units in stock."""
    sold_at = world.items["created"][items]
    m = sold_at.shape[0]
    stocked = sold_at - (rng.random(m) * np.minimum(60 * DAY_S, sold_at - t0)).astype(np.int64)
    created = np.concatenate([stocked, rng.integers(t0, t1, unsold)])
    product = np.concatenate([world.items["product"][items], rng.integers(0, world.catalogue.size, unsold)])
    sold = np.concatenate([sold_at, np.zeros(unsold, dtype=np.int64)])
    order = np.argsort(created, kind="stable")
    ids = np.empty(m + unsold, dtype=np.int64)
    ids[order] = world.next_inventory_id + np.arange(m + unsold)
    world.next_inventory_id += m + unsold
    world.items["inventory"][items] = ids[:m]
    created, product, sold, ids = created[order], product[order], sold[order], ids[order]
    fmt = _ts_formats(rng, m + unsold)
    products = world.catalogue.table.take(pa.array(product))
    columns = {
        "id": _text(ids),
        "product_id": _text(product + 1),
        "created_at": _timestamps(created, fmt),
        "sold_at": _timestamps(sold, fmt, empty=sold == 0),
    }
    for name in ("cost", "category", "name", "brand", "retail_price", "department", "sku", "distribution_center_id"):
        columns[name if name == "cost" else f"product_{name}"] = products[name]
    return pa.table(columns)


def _session_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """uuid-like session ids (deterministic)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8).tobytes().hex()
    return pa.array(
        [f"{raw[i:i + 8]}-{raw[i + 8:i + 12]}-{raw[i + 12:i + 16]}-{raw[i + 16:i + 20]}-{raw[i + 20:i + 32]}"
         for i in range(0, 32 * n, 32)],
        pa.string(),
    )  # fmt: skip


def _events(world: _World, rng: np.random.Generator, t0: int, t1: int, n_events: int) -> pa.Table:
    """Web sessions started in [t0, t1): home/department/product/cart/purchase/cancel events."""
    lengths_of = np.array([len(t) for t, _ in SESSION_TEMPLATES])
    n_sessions = round(n_events / float(lengths_of @ _weights(tuple(w for _, w in SESSION_TEMPLATES))))
    template = rng.choice(len(SESSION_TEMPLATES), size=n_sessions, p=_weights(tuple(w for _, w in SESSION_TEMPLATES)))
    grid = np.full((len(SESSION_TEMPLATES), lengths_of.max()), HOME)
    for row, (steps, _) in enumerate(SESSION_TEMPLATES):
        grid[row, : len(steps)] = steps
    started = np.sort(rng.integers(t0, t1, n_sessions))
    known = np.searchsorted(world.users["created"], started, side="right")
    guest = (rng.random(n_sessions) < GUEST_SESSION_RATE) | (known == 0)
    user = np.minimum((rng.random(n_sessions) * np.maximum(known, 1)).astype(np.int64), world.n_users - 1)
    lengths = lengths_of[template]
    total = int(lengths.sum())
    session = np.repeat(np.arange(n_sessions), lengths)
    position = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    kind = grid[template[session], position]
    gaps = np.where(position == 0, 0, rng.integers(5, 300, total))
    elapsed = np.cumsum(gaps)
    created = started[session] + elapsed - np.repeat(elapsed[np.cumsum(lengths) - lengths], lengths)
    product = (world.catalogue.size * rng.random(n_sessions) ** 1.5).astype(np.int64)[session]
    size = world.catalogue.size
    vocabulary = [*world.catalogue.departments.tolist(), *[f"/product/{i}" for i in range(1, size + 1)]]
    vocabulary += ["/home", "/cart", "/purchase", "/cancel"]
    uri = np.select(
        [kind == DEPARTMENT, kind == PRODUCT, kind == HOME, kind == CART, kind == PURCHASE],
        [product, size + product, 2 * size, 2 * size + 1, 2 * size + 2],
        2 * size + 3,
    )
    octets = [_text(rng.integers(1, 255, n_sessions)) for _ in range(4)]
    ip = _join(octets[0], ".", octets[1], ".", octets[2], ".", octets[3])
    take = pa.array(session)
    located = pa.array(user[session])
    ids = world.next_event_id + np.arange(total)
    world.next_event_id += total
    return pa.table(
        {
            "id": _text(ids),
            "user_id": _text(user[session] + 1, null=guest[session]),
            "sequence_number": _text(position + 1),
            "session_id": pc.take(_session_ids(rng, n_sessions), take),
            "created_at": _timestamps(created, _ts_formats(rng, total)),
            "ip_address": pc.take(ip, take),
            "city": pc.take(_lookup(_CITY_NAMES, world.users["city"]), located),
            "state": pc.take(_lookup(_CITY_STATES, world.users["city"]), located),
            "postal_code": pc.take(world.user_text["postal_code"], located),
            "browser": pc.take(_lookup(BROWSERS[0], rng.choice(5, size=n_sessions, p=_weights(BROWSERS[1]))), take),
            "traffic_source": pc.take(
                _lookup(EVENT_TRAFFIC[0], rng.choice(5, size=n_sessions, p=_weights(EVENT_TRAFFIC[1]))), take
            ),
            "uri": _lookup(vocabulary, uri),
            "event_type": _lookup(EVENT_TYPES, kind),
        }
    )


def _add_chunk(
    world: _World,
    rng: np.random.Generator,
    t0: int,
    t1: int,
    counts: dict[str, int],
    out_of_order: tuple[int, int] | None = None,
) -> _Chunk:
    """Everything created in [t0, t1): users, orders and items, inventory, events."""
    users = _add_users(world, rng, t0, t1, counts["users"])
    if world.n_users == 0:
        return _Chunk(users, slice(0, 0), slice(0, 0), pa.table({}), pa.table({}))
    orders, items = _add_orders(world, rng, t0, t1, counts["orders"], out_of_order)
    unsold = max(counts["inventory_items"] - (items.stop - items.start), 0)
    inventory = _add_inventory(world, rng, t0, items, unsold, t1)
    return _Chunk(users, orders, items, inventory, _events(world, rng, t0, t1, counts["events"]))


def _status_at(final: np.ndarray, times: dict[str, np.ndarray], at: int) -> np.ndarray:
    """Status as of `at` of rows whose final status and life times are given."""
    shipped, delivered = times["ship"] < at, times["deliver"] < at
    status = np.full(final.shape[0], PROCESSING)
    status[np.isin(final, (SHIPPED, COMPLETE, RETURNED)) & shipped] = SHIPPED
    status[np.isin(final, (COMPLETE, RETURNED)) & delivered] = COMPLETE
    status[(final == RETURNED) & (times["return"] < at)] = RETURNED
    status[(final == CANCELLED) & (times["cancel"] < at)] = CANCELLED
    return status


def _changed(final: np.ndarray, times: dict[str, np.ndarray], start: int, stop: int) -> np.ndarray:
    """Rows whose status changed in [start, stop)."""

    def within(key: str) -> np.ndarray:
        return (times[key] >= start) & (times[key] < stop)

    return (
        (np.isin(final, (SHIPPED, COMPLETE, RETURNED)) & within("ship"))
        | (np.isin(final, (COMPLETE, RETURNED)) & within("deliver"))
        | ((final == RETURNED) & within("return"))
        | ((final == CANCELLED) & within("cancel"))
    )


def _life(world: _World, orders: np.ndarray) -> dict[str, np.ndarray]:
    """Ship/deliver/return/cancel times of the given orders."""
    return {key: world.orders[key][orders] for key in ("ship", "deliver", "return", "cancel")}


def _orders_table(world: _World, rows: np.ndarray, at: int) -> pa.Table:
    """The given orders as of `at`."""
    o = {key: value[rows] for key, value in world.orders.items()}
    life = _life(world, rows)
    status = _status_at(o["status"], life, at)
    blank = o["blank"] & (status == RETURNED)
    shown = np.isin(status, (SHIPPED, COMPLETE, RETURNED))
    return pa.table(
        {
            "order_id": _text(rows + 1),
            "user_id": _text(o["user"] + 1),
            "status": _lookup(STATUSES, status),
            "gender": _lookup(("F", "M"), world.users["gender"][o["user"]]),
            "created_at": _timestamps(o["created"], o["fmt"]),
            "returned_at": _timestamps(life["return"], o["fmt"], empty=(status != RETURNED) | blank),
            "shipped_at": _timestamps(life["ship"], o["fmt"], empty=~shown | blank),
            "delivered_at": _timestamps(
                life["deliver"], o["fmt"], empty=~np.isin(status, (COMPLETE, RETURNED)) | blank
            ),
            "num_of_item": _text(o["num"]),
        }
    )


def _items_table(world: _World, rows: np.ndarray, at: int) -> pa.Table:
    """The given order items as of `at`."""
    i = {key: value[rows] for key, value in world.items.items()}
    life = _life(world, i["order"])
    status = _status_at(i["status"], life, at)
    prices = world.catalogue.table["retail_price"].combine_chunks()
    return pa.table(
        {
            "id": _text(rows + 1),
            "order_id": _text(i["order"] + 1),
            "user_id": _text(i["user_id"]),
            "product_id": _text(i["product_id"]),
            "inventory_item_id": _text(i["inventory"]),
            "status": _lookup(STATUSES, status),
            "created_at": _timestamps(i["created"], i["fmt"]),
            "shipped_at": _timestamps(i["shown_ship"], i["fmt"], empty=~np.isin(status, (SHIPPED, COMPLETE, RETURNED))),
            "delivered_at": _timestamps(life["deliver"], i["fmt"], empty=~np.isin(status, (COMPLETE, RETURNED))),
            "returned_at": _timestamps(life["return"], i["fmt"], empty=status != RETURNED),
            "sale_price": pc.take(prices, pa.array(i["product"])),
        }
    )


def _write_csv(table: pa.Table, path: Path) -> Path:
    """Write a table as CSV (atomically) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    options = pcsv.WriteOptions(quoting_style="none", quoting_header="none", batch_size=65_536)
    pcsv.write_csv(table, tmp, write_options=options)
    os.replace(tmp, path)
    return path


def _volumes(scale: float) -> dict[str, int]:
    """Rows of the full history at `scale`."""
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    return {name: max(1, round(full * scale)) for name, full in FULL_VOLUMES.items()}


def _day_counts(seed: int, day: date, scale: float) -> dict[str, int]:
    """How many rows the day creates: the full volume spread over 4 years, Poisson-distributed."""
    rng = _rng(seed, day.toordinal(), 2)
    return {name: int(rng.poisson(full * scale / HISTORY_DAYS)) for name, full in FULL_VOLUMES.items()}


def _history(seed: int, day: date, scale: float) -> tuple[_World, _Chunk]:
    """A world with ~4 years of history up to the end of `day`."""
    world = _World(seed=seed, scale=scale, catalogue=_catalogue(seed, scale))
    end = _seconds(day + timedelta(days=1))
    chunk = _add_chunk(world, _rng(seed, day.toordinal(), 0), end - HISTORY_DAYS * DAY_S, end, _volumes(scale))
    return world, chunk


def _write_snapshot(world: _World, chunk: _Chunk, folder: Path, day: date, geom: bool) -> list[Path]:
    """All 7 tables of the world as of the end of `day`."""
    at = _seconds(day + timedelta(days=1))
    tables = {
        "users": _users_columns(world.user_text, geom),
        "orders": _orders_table(world, np.arange(world.n_orders), at),
        "order_items": _items_table(world, np.arange(world.n_items), at),
        "products": world.catalogue.table,
        "inventory_items": chunk.inventory,
        "distribution_centers": _distribution_centers(geom),
        "events": chunk.events,
    }
    return [_write_csv(table, Path(folder) / f"{name}.csv") for name, table in tables.items()]


def _users_columns(table: pa.Table, geom: bool) -> pa.Table:
    """The users file, with or without the WKT column of newer exports."""
    return table if geom else table.drop_columns(["user_geom"])


def write_thelook_snapshot(
    folder: Path, day: date, seed: int = 42, scale: float = 1.0, geom: bool | None = None
) -> list[Path]:
    """Write a full snapshot of ~4 years of history up to `day` into `folder`; return the 7 paths."""
    world, chunk = _history(seed, day, scale)
    return _write_snapshot(world, chunk, Path(folder), day, day > GEOM_SINCE if geom is None else geom)


def _write_delta(world: _World, seed: int, day: date, folder: Path, geom: bool) -> list[Path]:
    """Add the day to the world; write what it created and the orders/items whose status changed."""
    t0, t1 = _seconds(day), _seconds(day + timedelta(days=1))
    old_orders, old_items = world.n_orders, world.n_items
    counts = _day_counts(seed, day, world.scale)
    next_users = _day_counts(seed, day + timedelta(days=1), world.scale)["users"]
    out_of_order = (world.n_users + counts["users"] + 1, next_users)
    chunk = _add_chunk(world, _rng(seed, day.toordinal(), 1), t0, t1, counts, out_of_order)
    orders = np.flatnonzero(_changed(world.orders["status"][:old_orders], _life(world, np.arange(old_orders)), t0, t1))
    item_orders = world.items["order"][:old_items]
    items = np.flatnonzero(_changed(world.items["status"][:old_items], _life(world, item_orders), t0, t1))
    tables = {
        "users": _users_columns(world.user_text.slice(chunk.users.start, chunk.users.stop - chunk.users.start), geom),
        "orders": _orders_table(world, np.concatenate([orders, np.arange(chunk.orders.start, chunk.orders.stop)]), t1),
        "order_items": _items_table(world, np.concatenate([items, np.arange(chunk.items.start, chunk.items.stop)]), t1),
        "inventory_items": chunk.inventory,
        "events": chunk.events,
    }
    return [_write_csv(t, folder / f"{name}.csv") for name, t in tables.items() if t.num_columns and t.num_rows]


def generate_thelook(landing_dir: Path, start: date, days: int, seed: int = 42, scale: float = 0.01) -> list[Path]:
    """Write a full snapshot for `start` and a delta for each of the following `days - 1` days; return the paths."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    if days == 0:
        return []
    root = Path(landing_dir) / SOURCE
    world, chunk = _history(seed, start, scale)
    paths = _write_snapshot(world, chunk, root / start.isoformat(), start, geom=days // 2 == 0)
    for offset in range(1, days):
        day = start + timedelta(days=offset)
        paths.extend(_write_delta(world, seed, day, root / day.isoformat(), geom=offset >= days // 2))
    return paths
