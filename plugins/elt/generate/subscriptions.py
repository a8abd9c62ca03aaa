"""Deterministic daily snapshots of a merchant app's stores, with the quirks of the real exports (the `subscriptions`
source).

Each day D lands in `<landing>/subscriptions/<YYYY-MM-DD>/` as five CSV files (UTF-8, `\\n` line ends, written by the
csv module: a cell with a quote, comma or line break is quoted, inner quotes doubled), each a FULL snapshot of what is
known at the end of D (a UTC day; every time is written as a naive UTC time, `2022-05-30 00:00:00.000000`):

- `dataset_sample.csv` (`store_id,installHistory,subscriptionHistory`): one row per store installed on or before D,
  by store_id (ids increase with the first install, with gaps). The two history cells are compact JSON arrays (no
  spaces, keys in this order). Install periods `{"toNow","startType","fromDate","endType","toDate"}`: `startType`
  null for the store's first install, `CUSTOMER_REACTIVATED` or `CUSTOMER_REOPENED` for a later one; a closed period
  has `toNow` false, `endType` `CUSTOMER_CANCELLED` (~58%), `CUSTOMER_CLOSED` (~32%) or null (unknown, ~10%) and
  `toDate` `<last day> 23:59:59.999000`; a period still running at the end of D is open (`toNow` true, `endType` and
  `toDate` null). Subscription periods `{"price","planName","fromDate","toDate","billingOnDate"}`: the monthly price
  of the plan (`regular_1` 9.9, `regular_3` 29.9, `plus_5` 49.9, `plus_10` 89.9, `premium_25` 199.9), `toDate` null
  while running, `billingOnDate` always null. Periods start at `00:00:00.000000`. After an uninstall (or a plan
  change, for subscriptions) the next period starts the same day (overlap, ~35% of reinstalls, ~55% of plan changes),
  the next day (touch) or after a gap of days or months. ~84% of the stores of a 2024 snapshot have one install
  period, none more than 12 but one store, which has 37 (its 37th starts in 2022 at the default scale and stays
  open); ~two thirds have `[]` subscriptions; a subscription ends at the latest with the install period it began in.
- `transaction.csv` (`transaction_id,orderDate,branchId,branchName,customer_id,totalAmount,status,statusValue,
  product_id,price`): one row per transaction (one product, `quantity` units) of the merchant's branches up to D, by
  transaction_id (increasing with orderDate). `price` is the unit price (the product's basePrice, 20% discounted),
  `totalAmount` quantity x price, both with two decimals. `statusValue` `Completed` / `Cancelled` / `Pending` and
  `status` 1 for Completed, else 0. A transaction is `Pending` until it settles (at once for ~55%, else within
  hours or days), so a later snapshot may show it `Completed` or `Cancelled`; ~2% stay Pending for ever.
- `customerdb.csv` (`customer_id,customer_name,gender,birthDate,Region,email`): the customers who bought on or before
  D (by customer_id, in order of their first purchase); gender `M`/`F`, birthDate `YYYY-MM-DD`, Region one of
  Brazil's five, e-mails at example.com/.net/.org.
- `product.csv` (`product_id,name,categoryId,categoryName,basePrice,unit,weight,createdDate`): the catalogue as of D
  (products created on or before D); weight in kg with three decimals.
- `conversation.csv` (`message_id,conversation_id,store_id,sender,created_at,message,has_phone,phone_info`): support
  conversations of installed stores (`store` / `support` messages, Portuguese), up to D, by created_at.
  `phone_info` is a Python list literal of the phones in the message (`['+5577127600']`, two phones, or `[None]`),
  `has_phone` `True` / `False`.

One universe per (seed, scale), simulated from 2018-01-01 (launch day: a few stores, branches, products, a
transaction and a conversation, so that every 2018 day has non-empty files) to 2030-12-31 with growth (stores ~22% a
year, transactions ~30%); the snapshot of D is that universe cut at the end of D: periods starting after D are absent,
a period still running at the end of D is written open, rows after D are absent. So D+1's snapshot extends D's:
every store and period of D is in D+1, a period closed in D is written identically, an open one may close later.
Days before 2018 give header-only files; days after 2030 the whole (final) universe.

Volumes at scale 1.0 (the default; every count is proportional to the scale, at least one of each launch entity),
in the snapshot of 2024-01-01: ~4,000 stores (~4,900 install and ~2,000 subscription periods), ~12,000 transactions
of 24 branches, ~3,700 customers, ~250 products, ~7,000 messages in ~2,000 conversations; 2024-12-31: ~5,300 stores,
~17,000 transactions; 2030-12-31: ~24,000 stores, ~116,000 transactions, ~50,000 messages. A 2024 day takes ~0.15 s
at scale 1.0 (a 2030 day ~1 s), after the universe is built (~0.35 s, once per process, seed and scale; ~20 MB);
the scale is at most 20.

Quirks (the issue's known contradictions), at about these rates:

- malformed JSON: per day, ~1 cell in 2,500 stores (at least one when the snapshot has 1,000 stores or more) is
  truncated (3 in 4; either history column) or written as a Python literal (`[{'toNow': True, ...`, install column);
  the store's other days are fine;
- `status` disagreeing with `statusValue` (1 for a non-Completed row or 0 for a Completed one): 1% of transactions;
- one branchId (the second branch, open since launch) under three branchNames: its main one ~80%, two variants
  ~15% and ~5%;
- `totalAmount` not a whole multiple of `price` (a shipping fee added): 2% of transactions;
- `has_phone` disagreeing with `phone_info`: 2% of messages;
- `message_id` repeated: ~1% of rows (~60% exact copies of a row right after it, the others a message reusing the id
  of its conversation's previous message).

Everything but the malformed cells is a property of the universe, so it is the same on every day that shows the row
(a Pending transaction's status excepted, once it settles).

`write_stores_snapshot(path, day, stores, periods)` writes a big `dataset_sample.csv` for `make bench` (same shapes:
mostly one install period, one store with 37, two thirds without subscriptions, overlapping and touching periods,
open last periods, all within 2018-01-01..day), exactly `periods` periods (`periods` >= `stores`: each store has an
install period; the rest goes to reinstalls and, mostly, to the subscribed stores' plan periods), written
CHUNK_STORES stores at a time (bounded memory; 100,000 stores and 2,000,000 periods, ~300 MB, in ~10 s).

Deterministic: numpy Generators seeded from (seed, a tag) for the universe and from (seed, tag, day) for a day's
malformed cells; no clock. The same arguments give byte-identical files, and a day's files do not depend on the
other days generated with it (generating 2024-01-03 alone equals the third day of a run from 2024-01-01).
"""

from __future__ import annotations

import csv
import json
import math
import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

SOURCE = "subscriptions"
STORES_FILE, TRANSACTIONS_FILE, CUSTOMERS_FILE, PRODUCTS_FILE, CONVERSATIONS_FILE = (
    "dataset_sample.csv", "transaction.csv", "customerdb.csv", "product.csv", "conversation.csv",
)  # fmt: skip
STORES_COLUMNS = ("store_id", "installHistory", "subscriptionHistory")
TRANSACTIONS_COLUMNS = (
    "transaction_id", "orderDate", "branchId", "branchName", "customer_id", "totalAmount", "status", "statusValue",
    "product_id", "price",
)  # fmt: skip
CUSTOMERS_COLUMNS = ("customer_id", "customer_name", "gender", "birthDate", "Region", "email")
PRODUCTS_COLUMNS = ("product_id", "name", "categoryId", "categoryName", "basePrice", "unit", "weight", "createdDate")
CONVERSATIONS_COLUMNS = (
    "message_id", "conversation_id", "store_id", "sender", "created_at", "message", "has_phone", "phone_info",
)  # fmt: skip
FILES = {
    STORES_FILE: STORES_COLUMNS,
    TRANSACTIONS_FILE: TRANSACTIONS_COLUMNS,
    CUSTOMERS_FILE: CUSTOMERS_COLUMNS,
    PRODUCTS_FILE: PRODUCTS_COLUMNS,
    CONVERSATIONS_FILE: CONVERSATIONS_COLUMNS,
}

FIRST_DAY, LAST_DAY = date(2018, 1, 1), date(2030, 12, 31)  # the simulated span
REFERENCE_DAY = date(2024, 1, 1)  # volumes are set by what is known on this day
END = (LAST_DAY - FIRST_DAY).days  # day numbers count from FIRST_DAY
OPEN = 1 << 40  # the last day of a period still running at the end of the span
DAY_MS = 86_400_000
DEFAULT_SCALE, MAX_SCALE = 1.0, 20.0

# Volumes at scale 1.0: known on REFERENCE_DAY, growth a year, launch-day count.
STORES_BY_REFERENCE, STORE_GROWTH, LAUNCH_STORES = 4_000, 0.22, 6
TRANSACTIONS_BY_REFERENCE, TRANSACTION_GROWTH, LAUNCH_TRANSACTIONS = 12_000, 0.30, 2
CONVERSATIONS_BY_REFERENCE, CONVERSATION_GROWTH, LAUNCH_CONVERSATIONS = 2_000, 0.25, 1
PRODUCTS_BY_REFERENCE, PRODUCT_GROWTH, LAUNCH_PRODUCTS = 240, 0.15, 40
NEW_CUSTOMER_SHARE = 0.30  # of the transactions: a first purchase

# Install periods.
MAX_INSTALLS = 12  # periods per store, but the one with LONG_HISTORY
LONG_HISTORY = 37
LONG_HISTORY_FROM = date(2019, 3, 1)  # the first store installed on or after this day has LONG_HISTORY periods
SHORT_SHARE = (0.20, 0.35)  # short (trial-like) periods: first install, later ones
SHORT_MEAN_DAYS = (25.0, 40.0)
LONG_MEDIAN_DAYS, LONG_SIGMA = (900.0, 400.0), 1.0
REINSTALL_RATE = (0.32, 0.40)  # after the first end, after a later one
GAP_WEIGHTS = (0.35, 0.25, 0.25, 0.15)  # the next period: same day (overlap), next day (touch), days, months
NULL, REACTIVATED, REOPENED = 0, 1, 2  # startType
START_TYPES = ("null", '"CUSTOMER_REACTIVATED"', '"CUSTOMER_REOPENED"')
UNKNOWN, CANCELLED, CLOSED = 0, 1, 2  # endType
END_TYPES = ("null", '"CUSTOMER_CANCELLED"', '"CUSTOMER_CLOSED"')
END_TYPE_WEIGHTS = (0.10, 0.58, 0.32)

# Subscription periods.
PLANS = (("regular_1", "9.9"), ("regular_3", "29.9"), ("plus_5", "49.9"), ("plus_10", "89.9"), ("premium_25", "199.9"))
PLAN_WEIGHTS = (0.42, 0.26, 0.18, 0.10, 0.04)
SUBSCRIBE_RATE = (0.34, 0.25)  # per install period: the first, a later one
SUBSCRIBE_AT_INSTALL = 0.35  # else after an exponential delay
SUBSCRIBE_DELAY_MEAN = 60.0
SUBSCRIPTION_MEAN_DAYS = 300.0
PLAN_CHANGE_RATE, RESUBSCRIBE_RATE = 0.40, 0.12  # when a subscription period ends (not by an uninstall)
PLAN_CHANGE_OVERLAP = 0.55  # else the new plan starts the next day
MAX_SUBSCRIPTIONS = 10  # periods per install period

# Transactions, customers, products.
BRANCHES = (
    "Salvador - Centro", "Salvador - Barra", "Feira de Santana", "São Paulo - Pinheiros", "São Paulo - Mooca",
    "Campinas", "Rio de Janeiro - Tijuca", "Niterói", "Belo Horizonte - Savassi", "Recife - Boa Viagem",
    "Fortaleza - Aldeota", "Vitória da Conquista", "Curitiba - Batel", "Porto Alegre - Moinhos", "Goiânia",
    "Brasília - Asa Sul", "Manaus", "Belém", "Florianópolis", "Natal", "João Pessoa", "Maceió", "Aracaju", "Ilhéus",
)  # fmt: skip
BRANCH_IDS = tuple(range(101, 101 + len(BRANCHES)))
LAUNCH_BRANCHES = 3
CONFLICT_BRANCH = 1  # index of the branch written under several names
CONFLICT_NAMES = ("Salvador - Barra", "Salvador Barra", "SALVADOR - BARRA")
CONFLICT_WEIGHTS = (0.80, 0.15, 0.05)
SHOP_HOURS = (0, 0, 0, 0, 0, 0, 0, 1, 3, 5, 7, 8, 9, 8, 7, 7, 7, 8, 9, 9, 8, 6, 3, 1)  # transactions per UTC hour
SUPPORT_HOURS = (1, 0, 0, 0, 0, 0, 1, 2, 5, 8, 9, 9, 7, 8, 9, 9, 8, 7, 5, 4, 3, 2, 2, 1)
QUANTITY_WEIGHTS = (0.60, 0.20, 0.10, 0.05, 0.03, 0.02)  # 1..6 units
DISCOUNT_SHARE = 0.20
COMPLETED, CANCELLED_TX, PENDING = 0, 1, 2
STATUS_VALUES = ("Completed", "Cancelled", "Pending")
FINAL_STATUS_WEIGHTS = (0.89, 0.09, 0.02)
SETTLE_AT_ONCE, SETTLE_MEAN_HOURS = 0.55, 20.0
STATUS_FLIP_RATE = 0.01
FEE_RATE = 0.02
FEES_CENTS = (590, 990, 1250, 1590, 2190)
CATEGORIES = (
    (1, "Alimentos", ("Arroz Integral", "Feijão Carioca", "Café Torrado", "Açúcar Cristal", "Farinha de Mandioca"),
     ("kg", "pct"), 1_200),
    (2, "Bebidas", ("Suco de Caju", "Água de Coco", "Refrigerante Guaraná", "Cerveja Artesanal"), ("l", "un"), 900),
    (3, "Vestuário", ("Camiseta Algodão", "Bermuda Jeans", "Vestido Floral", "Boné Aba Curva"), ("un",), 6_900),
    (4, "Calçados", ("Tênis Corrida", "Sandália Couro", "Chinelo", "Bota Cano Curto"), ("par",), 12_900),
    (5, "Eletrônicos", ("Fone Bluetooth", "Carregador USB-C", "Caixa de Som", "Smartwatch"), ("un",), 15_900),
    (6, "Casa", ("Jogo de Toalhas", "Panela Antiaderente", "Luminária LED", "Jogo de Copos"), ("un", "cx"), 5_900),
    (7, "Beleza", ("Protetor Solar", "Shampoo", "Hidratante Corporal", "Perfume"), ("un", "ml"), 3_900),
    (8, "Papelaria", ("Caderno Universitário", "Caneta Gel", "Mochila Escolar", "Agenda"), ("un", "cx"), 1_900),
)  # fmt: skip
VARIANTS = ("", " P", " M", " G", " Premium", " 500g", " 1kg", " Kit", " Azul", " Preto")
FIRST_NAMES = (
    ("João", "M"), ("Pedro", "M"), ("Lucas", "M"), ("Gabriel", "M"), ("Rafael", "M"), ("Carlos", "M"),
    ("Marcos", "M"), ("Felipe", "M"), ("Bruno", "M"), ("Tiago", "M"), ("André", "M"), ("Paulo", "M"),
    ("Diego", "M"), ("Rodrigo", "M"), ("Mateus", "M"), ("Maria", "F"), ("Ana", "F"), ("Juliana", "F"),
    ("Fernanda", "F"), ("Camila", "F"), ("Beatriz", "F"), ("Larissa", "F"), ("Patrícia", "F"), ("Aline", "F"),
    ("Letícia", "F"), ("Mariana", "F"), ("Gabriela", "F"), ("Renata", "F"), ("Vanessa", "F"), ("Luana", "F"),
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes", "Costa",
    "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias",
    "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Conceição", "Araújo",
)  # fmt: skip
REGIONS = ("Sudeste", "Nordeste", "Sul", "Centro-Oeste", "Norte")
REGION_WEIGHTS = (0.42, 0.27, 0.15, 0.08, 0.08)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# Conversations.
MESSAGES_GEOMETRIC_P, MAX_MESSAGES = 0.4, 12  # messages per conversation: 1 + geometric, at least 2
MESSAGE_GAP_MEAN_MINUTES = 14.0
STORE_TEMPLATES = (
    ("Olá, não consigo acessar o app da loja.", 0),
    ("O pagamento da assinatura falhou, podem verificar?", 0),
    ("Quero mudar para o plano plus, como faço?", 0),
    ("Quero cancelar minha assinatura.", 0),
    ("Os pedidos não aparecem no painel desde ontem.", 0),
    ("Obrigado, resolveu!", 0),
    ('Ok, vou testar e aviso. O botão "sincronizar" sumiu.', 0),
    ("Meu número é {0}, podem me ligar?", 1),
    ("Podem ligar no {0} ou no {1}, por favor.", 2),
    ("Falem com o gerente no {0}, ele resolve.", 1),
)
STORE_TEMPLATE_WEIGHTS = (0.14, 0.12, 0.09, 0.06, 0.11, 0.14, 0.08, 0.14, 0.04, 0.08)
SUPPORT_TEMPLATES = (
    ("Olá! Como podemos ajudar?", 0),
    ("Pode nos passar um telefone para contato?", 0),
    ("Vamos verificar, um momento, por favor.", 0),
    ("Pronto, pode testar de novo?", 0),
    ("Ligaremos no {0} em instantes.", 1),
    ("Se preferir, nosso WhatsApp é {0}.", 1),
)
SUPPORT_TEMPLATE_WEIGHTS = (0.25, 0.15, 0.25, 0.20, 0.10, 0.05)
AREA_CODES = (11, 21, 27, 31, 41, 48, 51, 61, 62, 71, 73, 75, 77, 79, 81, 82, 83, 84, 85, 91, 92, 98)
PHONE_FLIP_RATE = 0.02
REPEAT_ID_RATE = 0.01  # half exact copies of the previous row, half a reused id

# Malformed JSON cells, per day.
MALFORMED_PER_STORES = 2_500
MALFORMED_FROM_STORES = 1_000  # a snapshot this big has at least one
PYTHON_LITERAL_SHARE = 0.25  # of the malformed cells; the others are truncated

_STORES_TAG, _SUBSCRIPTIONS_TAG, _LONG_TAG, _TRANSACTIONS_TAG, _CONVERSATIONS_TAG, _DAY_TAG, _BENCH_TAG = range(1, 8)
CHUNK_STORES = 5_000  # write_stores_snapshot's chunk


def _rng(seed: int, *parts: int) -> np.random.Generator:
    """A random generator that is a function of the seed and the given parts only."""
    return np.random.default_rng(np.random.SeedSequence([seed, *parts]))


def _weights(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array / array.sum()


def _day_number(day: date) -> int:
    return day.toordinal() - FIRST_DAY.toordinal()


def _day_texts(days: np.ndarray) -> list[str]:
    """`YYYY-MM-DD` of day numbers."""
    return np.datetime_as_string(np.datetime64(FIRST_DAY.isoformat(), "D") + days.astype("timedelta64[D]")).tolist()


def _time_texts(ms: np.ndarray) -> list[str]:
    """`YYYY-MM-DD HH:MM:SS.ffffff` of milliseconds since FIRST_DAY 00:00."""
    base = np.datetime64(f"{FIRST_DAY.isoformat()}T00:00:00.000", "ms")
    return [
        text.replace("T", " ") for text in np.datetime_as_string(base + ms.astype("timedelta64[ms]"), "us").tolist()
    ]


def _cents_texts(cents: np.ndarray) -> list[str]:
    return [f"{value // 100}.{value % 100:02d}" for value in cents.tolist()]


def _arrivals(rng: np.random.Generator, by_reference: float, growth: float, launch: int) -> np.ndarray:
    """Sorted arrival times (days since FIRST_DAY, fractional) over the span: `launch` on the first day, then a
    Poisson process growing by `growth` a year with `by_reference` arrivals expected before REFERENCE_DAY."""
    rate = growth / 365.25
    reference = _day_number(REFERENCE_DAY)
    per_day = by_reference * rate / math.expm1(rate * reference)  # intensity on the first day
    total = per_day * math.expm1(rate * (END + 1)) / rate
    later = np.log1p(rng.random(int(rng.poisson(total))) * math.expm1(rate * (END + 1))) / rate
    return np.sort(np.concatenate([rng.random(launch), later]))


def _in_hours(rng: np.random.Generator, days: np.ndarray, hour_weights: Sequence[float]) -> np.ndarray:
    """Sorted times (ms since FIRST_DAY) on the given days, at hours drawn from `hour_weights`."""
    hour = rng.choice(24, size=days.size, p=_weights(hour_weights))
    return np.sort(days.astype(np.int64) * DAY_MS + hour * 3_600_000 + rng.integers(0, 3_600_000, days.size))


def _pick_open(rng: np.random.Generator, open_count: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """For each draw, an index below its `open_count` (>= 1), by `weight` (entities in order of opening)."""
    cumulative = np.cumsum(weight)
    target = rng.random(open_count.size) * cumulative[open_count - 1]
    return np.minimum(np.searchsorted(cumulative, target, side="right"), open_count - 1)


def _group_starts(group: np.ndarray) -> np.ndarray:
    """For rows sorted by group, whether each row is its group's first."""
    return np.r_[True, group[1:] != group[:-1]] if group.size else np.zeros(0, dtype=bool)


# ---------------------------------------------------------------------------------------------------------- stores


@dataclass(frozen=True)
class _Periods:
    """Install or subscription periods, sorted by store then start: days are day numbers, `to` OPEN if running."""

    store: np.ndarray
    start: np.ndarray
    to: np.ndarray
    kind: np.ndarray  # install: startType; subscription: plan
    end_type: np.ndarray  # install: endType (subscriptions: zeros)


def _sorted(store: list, start: list, to: list, kind: list, end_type: list, order_key: list) -> _Periods:
    arrays = [np.concatenate(parts) if parts else np.zeros(0, np.int64) for parts in (store, start, to, kind, end_type)]
    rank = np.concatenate(order_key) if order_key else np.zeros(0, np.int64)
    order = np.lexsort((rank, arrays[2], arrays[1], arrays[0]))  # by store, start, end (same-day starts), round
    return _Periods(*(array[order] for array in arrays))


def _next_start(rng: np.random.Generator, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a reinstall starts after a period's last day, and its startType."""
    n = end.size
    gap_kind = rng.choice(4, size=n, p=_weights(GAP_WEIGHTS))
    gap = np.select(
        [gap_kind == 0, gap_kind == 1, gap_kind == 2], [0, 1, rng.integers(2, 61, n)], rng.integers(61, 721, n)
    )
    adjacent = gap_kind <= 1
    reopened = rng.random(n) < np.where(adjacent, 0.70, 0.15)
    return end + gap, np.where(reopened, REOPENED, REACTIVATED)


def _install_periods(rng: np.random.Generator, first_day: np.ndarray) -> _Periods:
    """Each store's install periods: a first one, then reinstalls (at most MAX_INSTALLS)."""
    parts: tuple[list, ...] = ([], [], [], [], [], [])
    store = np.arange(first_day.size)
    start = first_day.astype(np.int64)
    start_type = np.full(store.size, NULL)
    for round_ in range(MAX_INSTALLS):
        later = min(round_, 1)
        n = store.size
        short = rng.random(n) < SHORT_SHARE[later]
        length = np.where(
            short,
            1 + rng.exponential(SHORT_MEAN_DAYS[later], n),
            1 + rng.lognormal(math.log(LONG_MEDIAN_DAYS[later]), LONG_SIGMA, n),
        ).astype(np.int64)
        end = start + length - 1
        running = end > END
        end = np.where(running, OPEN, end)
        end_type = np.where(running, UNKNOWN, rng.choice(3, size=n, p=_weights(END_TYPE_WEIGHTS)))
        for part, values in zip(parts, (store, start, end, start_type, end_type, np.full(n, round_)), strict=True):
            part.append(values)
        again = ~running & (rng.random(n) < REINSTALL_RATE[later])
        next_start, next_type = _next_start(rng, end)
        again &= next_start <= END
        store, start, start_type = store[again], next_start[again], next_type[again]
        if not store.size:
            break
    return _sorted(*parts)


def _long_history(rng: np.random.Generator, first_day: int) -> tuple[np.ndarray, ...]:
    """The one store with LONG_HISTORY periods: 36 short closed ones, then one open for ever."""
    n = LONG_HISTORY
    length = rng.integers(5, 41, n)
    next_start, start_type = _next_start(rng, np.zeros(n, np.int64))
    gap = np.minimum(next_start, rng.integers(2, 22, n))  # days rather than months between its periods
    start = np.empty(n, np.int64)
    start[0] = first_day
    for i in range(1, n):
        start[i] = start[i - 1] + length[i - 1] - 1 + gap[i - 1]
    end = start + length - 1
    end[-1] = OPEN
    start_type[0] = NULL
    end_type = rng.choice(3, size=n, p=_weights(END_TYPE_WEIGHTS))
    end_type[-1] = UNKNOWN
    return start, end, start_type, end_type


def _subscription_periods(rng: np.random.Generator, installs: _Periods) -> _Periods:
    """Subscriptions within install periods: a first plan some time after the install, plan changes (overlapping or
    touching), cancellations, sometimes a new subscription later; none outlives its install period."""
    first = _group_starts(installs.store)
    rate = np.where(first, SUBSCRIBE_RATE[0], SUBSCRIBE_RATE[1])
    n = installs.store.size
    delay = np.where(rng.random(n) < SUBSCRIBE_AT_INSTALL, 0, rng.exponential(SUBSCRIBE_DELAY_MEAN, n).astype(np.int64))
    cap = np.minimum(installs.to, END)  # the last day a subscription may start
    start = installs.start + delay
    chosen = (rng.random(n) < rate) & (start <= cap)
    store, start, limit, cap = installs.store[chosen], start[chosen], installs.to[chosen], cap[chosen]
    plan = rng.choice(len(PLANS), size=store.size, p=_weights(PLAN_WEIGHTS))
    parts: tuple[list, ...] = ([], [], [], [], [], [])
    for round_ in range(MAX_SUBSCRIPTIONS):
        m = store.size
        end = start + (1 + rng.exponential(SUBSCRIPTION_MEAN_DAYS, m)).astype(np.int64) - 1
        uninstalled = end >= limit
        end = np.minimum(end, limit)
        end = np.where(end > END, OPEN, end)
        for part, values in zip(
            parts, (store, start, end, plan, np.zeros(m, np.int64), np.full(m, round_)), strict=True
        ):
            part.append(values)
        action = rng.random(m)
        change = ~uninstalled & (end != OPEN) & (action < PLAN_CHANGE_RATE)
        resubscribe = ~uninstalled & (end != OPEN) & (action >= 1 - RESUBSCRIBE_RATE)
        step = rng.choice(3, size=m, p=(0.15, 0.55, 0.30)) - 1  # the same plan, up, down
        changed_plan = np.clip(plan + step, 0, len(PLANS) - 1)
        changed_plan = np.where((changed_plan == plan) & (step != 0), plan - step, changed_plan)
        new_plan = rng.choice(len(PLANS), size=m, p=_weights(PLAN_WEIGHTS))
        overlap = rng.random(m) < PLAN_CHANGE_OVERLAP
        next_start = np.where(change, np.where(overlap, end, end + 1), end + rng.integers(20, 301, m))
        again = (change | resubscribe) & (next_start <= cap)
        store, start, limit, cap = store[again], next_start[again], limit[again], cap[again]
        plan = np.where(change, changed_plan, new_plan)[again]
        if not store.size:
            break
    return _sorted(*parts)


@dataclass(frozen=True)
class _Stores:
    store_id: np.ndarray  # increasing
    first_day: np.ndarray  # sorted: the first install's day
    installs: _Periods
    subscriptions: _Periods
    long_history: int  # index of the store with LONG_HISTORY install periods


def _stores(seed: int, scale: float) -> _Stores:
    rng = _rng(seed, _STORES_TAG)
    launch = max(1, round(LAUNCH_STORES * scale))
    first_day = _arrivals(rng, STORES_BY_REFERENCE * scale, STORE_GROWTH, launch).astype(np.int64)
    store_id = 10_000 + np.cumsum(rng.integers(1, 4, first_day.size))
    installs = _install_periods(rng, first_day)
    long_store = min(int(np.searchsorted(first_day, _day_number(LONG_HISTORY_FROM))), first_day.size - 1)
    start, end, start_type, end_type = _long_history(_rng(seed, _LONG_TAG), int(first_day[long_store]))
    keep = installs.store != long_store
    installs = _sorted(
        [installs.store[keep], np.full(LONG_HISTORY, long_store)],
        [installs.start[keep], start],
        [installs.to[keep], np.where(end > END, OPEN, end)],
        [installs.kind[keep], start_type],
        [installs.end_type[keep], end_type],
        [np.zeros(int(keep.sum()), np.int64), np.arange(LONG_HISTORY)],
    )
    keep = installs.start <= END  # the long history may not fit at tiny scales: it then gets fewer periods
    installs = _Periods(*(getattr(installs, name)[keep] for name in ("store", "start", "to", "kind", "end_type")))
    subscriptions = _subscription_periods(_rng(seed, _SUBSCRIPTIONS_TAG), installs)
    return _Stores(store_id, first_day, installs, subscriptions, long_store)


def _install_json(
    start: list[str], open_: list[bool], to: list[str], start_type: list[int], end_type: list[int]
) -> list[str]:
    return [
        f'{{"toNow":true,"startType":{START_TYPES[s]},"fromDate":"{f} 00:00:00.000000","endType":null,"toDate":null}}'
        if o
        else f'{{"toNow":false,"startType":{START_TYPES[s]},"fromDate":"{f} 00:00:00.000000",'
        f'"endType":{END_TYPES[e]},"toDate":"{t} 23:59:59.999000"}}'
        for f, o, t, s, e in zip(start, open_, to, start_type, end_type, strict=True)
    ]


def _subscription_json(start: list[str], open_: list[bool], to: list[str], plan: list[int]) -> list[str]:
    return [
        f'{{"price":{PLANS[p][1]},"planName":"{PLANS[p][0]}","fromDate":"{f} 00:00:00.000000",'
        + ('"toDate":null' if o else f'"toDate":"{t} 23:59:59.999000"')
        + ',"billingOnDate":null}'
        for f, o, t, p in zip(start, open_, to, plan, strict=True)
    ]


def _period_json(periods: _Periods, day: int, install: bool) -> tuple[np.ndarray, list[str]]:
    """The periods known at the end of `day`: their stores and JSON objects (open when running after `day`)."""
    known = periods.start <= day
    store = periods.store[known]
    open_ = periods.to[known] > day
    start = _day_texts(periods.start[known])
    to = _day_texts(np.where(open_, 0, periods.to[known]))
    if install:
        return store, _install_json(
            start, open_.tolist(), to, periods.kind[known].tolist(), periods.end_type[known].tolist()
        )
    return store, _subscription_json(start, open_.tolist(), to, periods.kind[known].tolist())


def _cells(store: np.ndarray, objects: list[str], stores: int) -> list[str]:
    """One JSON array per store (`[]` without periods), from objects sorted by store."""
    bounds = np.searchsorted(store, np.arange(stores + 1)).tolist()
    return ["[" + ",".join(objects[a:b]) + "]" for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _python_literal(cell: str) -> str:
    return repr(json.loads(cell))


def _malform(seed: int, day: int, install: list[str], subscription: list[str]) -> None:
    """A day's rare malformed JSON cells (in place): truncated, or a Python literal."""
    n = len(install)
    rng = _rng(seed, _DAY_TAG, FIRST_DAY.toordinal() + day)  # the ordinal: never negative
    count = int(rng.binomial(n, 1 / MALFORMED_PER_STORES))
    if n >= MALFORMED_FROM_STORES:
        count = max(count, 1)
    for row in sorted(rng.choice(n, size=min(count, n), replace=False).tolist()):
        if rng.random() < PYTHON_LITERAL_SHARE:
            install[row] = _python_literal(install[row])
            continue
        cells = install if rng.random() < 0.6 else subscription
        cells[row] = cells[row][: int(rng.integers(1, len(cells[row])))]


def store_rows(day: date, seed: int = 42, scale: float | None = None) -> list[tuple[int, str, str]]:
    """The rows of the day's `dataset_sample.csv`: (store_id, installHistory, subscriptionHistory)."""
    scale = _check(seed, scale)
    stores = _universe(seed, scale).stores
    d = _day_number(day)
    n = int(np.searchsorted(stores.first_day, d, side="right"))
    install = _cells(*_period_json(stores.installs, d, True), n)
    subscription = _cells(*_period_json(stores.subscriptions, d, False), n)
    _malform(seed, d, install, subscription)
    return list(zip(stores.store_id[:n].tolist(), install, subscription, strict=True))


# ---------------------------------------------------------------------------------------------------- transactions


@dataclass(frozen=True)
class _Sales:
    time: np.ndarray  # ms since FIRST_DAY, sorted
    settled: np.ndarray  # when the final status is known (ms)
    final: np.ndarray  # COMPLETED, CANCELLED_TX, PENDING
    flip: np.ndarray  # status disagrees with statusValue
    branch: np.ndarray  # branch index
    branch_name: np.ndarray  # 0 = the branch's name, 1-2 the conflict branch's variants
    customer: np.ndarray  # customer index, in order of the first purchase
    product: np.ndarray
    quantity: np.ndarray
    price: np.ndarray  # unit price, cents
    fee: np.ndarray  # cents added to quantity x price (0 for most)
    # customers
    first_name: np.ndarray
    last_name: np.ndarray
    birth_day: np.ndarray  # day number
    region: np.ndarray
    email_domain: np.ndarray
    email_number: np.ndarray
    customers_before: np.ndarray  # customers known after each transaction (cumulative)
    # products, in order of creation
    product_created: np.ndarray  # ms
    product_category: np.ndarray
    product_base: np.ndarray
    product_variant: np.ndarray
    product_price: np.ndarray  # cents
    product_unit: np.ndarray
    product_weight: np.ndarray  # grams


def _products(rng: np.random.Generator, scale: float) -> dict[str, np.ndarray]:
    launch = max(1, round(LAUNCH_PRODUCTS * scale))
    created_day = _arrivals(rng, max(PRODUCTS_BY_REFERENCE * scale - launch, 0.0), PRODUCT_GROWTH, 0)
    launch_times = rng.integers(0, 6 * 3_600_000, launch)  # the launch catalogue, before the first sale (07:00)
    created = np.sort(np.concatenate([launch_times, _in_hours(rng, created_day.astype(np.int64), SUPPORT_HOURS)]))
    n = created.size
    category = rng.integers(0, len(CATEGORIES), n)
    base = rng.integers(0, 1 << 30, n)
    variant = rng.integers(0, len(VARIANTS), n)
    typical = np.array([c[4] for c in CATEGORIES])[category]
    price = np.maximum(np.round(typical * rng.lognormal(0.0, 0.45, n) / 10) * 10 - 1, 99).astype(np.int64)
    unit = rng.integers(0, 1 << 30, n)
    weight = np.maximum(np.round(rng.lognormal(math.log(600), 0.9, n)), 5).astype(np.int64)
    return {
        "product_created": created, "product_category": category, "product_base": base, "product_variant": variant,
        "product_price": price, "product_unit": unit, "product_weight": weight,
    }  # fmt: skip


def _sales(seed: int, scale: float) -> _Sales:
    rng = _rng(seed, _TRANSACTIONS_TAG)
    products = _products(rng, scale)
    launch = max(1, round(LAUNCH_TRANSACTIONS * scale))
    days = _arrivals(rng, TRANSACTIONS_BY_REFERENCE * scale, TRANSACTION_GROWTH, launch).astype(np.int64)
    time = _in_hours(rng, days, SHOP_HOURS)  # from 07:00: after the launch products (00:00-06:00)
    n = time.size
    final = rng.choice(3, size=n, p=_weights(FINAL_STATUS_WEIGHTS))
    delay = np.where(rng.random(n) < SETTLE_AT_ONCE, 0, rng.exponential(SETTLE_MEAN_HOURS * 3_600_000, n))
    settled = time + delay.astype(np.int64)
    flip = rng.random(n) < STATUS_FLIP_RATE

    branch_open = np.r_[
        np.zeros(LAUNCH_BRANCHES, np.int64), np.sort(rng.integers(30, 3_000, len(BRANCHES) - LAUNCH_BRANCHES))
    ]
    open_count = np.searchsorted(branch_open, time // DAY_MS, side="right")
    branch = _pick_open(rng, open_count, rng.lognormal(0.0, 0.6, len(BRANCHES)))
    variant = rng.choice(len(CONFLICT_NAMES), size=n, p=_weights(CONFLICT_WEIGHTS))
    branch_name = np.where(branch == CONFLICT_BRANCH, variant, 0)

    new = rng.random(n) < NEW_CUSTOMER_SHARE
    new[0] = True
    customers_before = np.cumsum(new)
    returning = np.minimum((rng.random(n) * customers_before).astype(np.int64), customers_before - 1)
    customer = np.where(new, customers_before - 1, returning)
    c = int(customers_before[-1]) if n else 0
    first_name = rng.integers(0, len(FIRST_NAMES), c)
    birth_day = rng.integers(_day_number(date(1950, 1, 1)), _day_number(date(2006, 1, 1)), c)

    product_count = np.maximum(np.searchsorted(products["product_created"], time, side="right"), 1)
    product = _pick_open(rng, product_count, rng.lognormal(0.0, 1.0, products["product_created"].size))
    quantity = rng.choice(len(QUANTITY_WEIGHTS), size=n, p=_weights(QUANTITY_WEIGHTS)) + 1
    discount = np.where(rng.random(n) < DISCOUNT_SHARE, rng.integers(5, 31, n), 0)
    price = np.maximum(products["product_price"][product] * (100 - discount) // 100, 1)
    fee = np.where(rng.random(n) < FEE_RATE, rng.choice(FEES_CENTS, size=n), 0)
    fee = np.where((fee > 0) & (fee % price == 0), fee + 1, fee)  # a fee is never a whole number of units
    return _Sales(
        time=time, settled=settled, final=final, flip=flip, branch=branch, branch_name=branch_name,
        customer=customer, product=product, quantity=quantity, price=price, fee=fee,
        first_name=first_name, last_name=rng.integers(0, len(LAST_NAMES), (c, 2)), birth_day=birth_day,
        region=rng.choice(len(REGIONS), size=c, p=_weights(REGION_WEIGHTS)),
        email_domain=rng.integers(0, len(EMAIL_DOMAINS), c), email_number=rng.integers(0, 100, c),
        customers_before=customers_before, **products,
    )  # fmt: skip


def _status(sales: _Sales, rows: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """statusValue index and status of the first `rows` transactions at `end_ms`."""
    value = np.where(sales.settled[:rows] < end_ms, sales.final[:rows], PENDING)
    status = (value == COMPLETED).astype(np.int64)
    return value, np.where(sales.flip[:rows], 1 - status, status)


def transaction_rows(day: date, seed: int = 42, scale: float | None = None) -> Iterator[tuple]:
    """The rows of the day's `transaction.csv`."""
    scale = _check(seed, scale)
    sales = _universe(seed, scale).sales
    end_ms = (_day_number(day) + 1) * DAY_MS
    n = int(np.searchsorted(sales.time, end_ms, side="left"))
    value, status = _status(sales, n, end_ms)
    names = [CONFLICT_NAMES if i == CONFLICT_BRANCH else (name,) for i, name in enumerate(BRANCHES)]
    branch = sales.branch[:n].tolist()
    total = sales.quantity[:n] * sales.price[:n] + sales.fee[:n]
    return zip(
        (100_001 + np.arange(n)).tolist(),
        _time_texts(sales.time[:n]),
        [BRANCH_IDS[b] for b in branch],
        [names[b][v] for b, v in zip(branch, sales.branch_name[:n].tolist(), strict=True)],
        (500_001 + sales.customer[:n]).tolist(),
        _cents_texts(total),
        status.tolist(),
        [STATUS_VALUES[v] for v in value.tolist()],
        (2_001 + sales.product[:n]).tolist(),
        _cents_texts(sales.price[:n]),
        strict=True,
    )


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def customer_rows(day: date, seed: int = 42, scale: float | None = None) -> Iterator[tuple]:
    """The rows of the day's `customerdb.csv`: the customers with a purchase on or before the day."""
    scale = _check(seed, scale)
    sales = _universe(seed, scale).sales
    rows = int(np.searchsorted(sales.time, (_day_number(day) + 1) * DAY_MS, side="left"))
    n = int(sales.customers_before[rows - 1]) if rows else 0
    for i, first, (last1, last2), birth, region, domain, number in zip(
        range(n), sales.first_name[:n].tolist(), sales.last_name[:n].tolist(), _day_texts(sales.birth_day[:n]),
        sales.region[:n].tolist(), sales.email_domain[:n].tolist(), sales.email_number[:n].tolist(), strict=True,
    ):  # fmt: skip
        given, gender = FIRST_NAMES[first]
        surname = LAST_NAMES[last2] if last1 == last2 else f"{LAST_NAMES[last1]} {LAST_NAMES[last2]}"
        email = f"{_ascii(given)}.{_ascii(LAST_NAMES[last2])}{number}@{EMAIL_DOMAINS[domain]}"
        yield 500_001 + i, f"{given} {surname}", gender, birth, REGIONS[region], email


def product_rows(day: date, seed: int = 42, scale: float | None = None) -> Iterator[tuple]:
    """The rows of the day's `product.csv`: the catalogue as of the end of the day."""
    scale = _check(seed, scale)
    sales = _universe(seed, scale).sales
    n = int(np.searchsorted(sales.product_created, (_day_number(day) + 1) * DAY_MS, side="left"))
    created = _time_texts(sales.product_created[:n])
    prices = _cents_texts(sales.product_price[:n])
    for i in range(n):
        category_id, category, names, units, _ = CATEGORIES[int(sales.product_category[i])]
        name = names[int(sales.product_base[i]) % len(names)] + VARIANTS[int(sales.product_variant[i])]
        unit = units[int(sales.product_unit[i]) % len(units)]
        weight = int(sales.product_weight[i])
        yield (
            2_001 + i,
            name,
            category_id,
            category,
            prices[i],
            unit,
            f"{weight // 1000}.{weight % 1000:03d}",
            created[i],
        )


# --------------------------------------------------------------------------------------------------- conversations


@dataclass(frozen=True)
class _Messages:
    time: np.ndarray  # ms, sorted
    message_id: np.ndarray
    conversation: np.ndarray
    store: np.ndarray  # store index
    support: np.ndarray  # sender: support (else the store)
    template: np.ndarray
    slots: np.ndarray  # phones in the message: 0-2
    phone: np.ndarray  # (messages, 2): the phones as integers, 55 and the area code first
    flip: np.ndarray  # has_phone disagrees with phone_info


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` Brazilian phones as integers `55 <area> <number>`: mobiles (9 and 8 digits), landlines (8 digits from 2-5)
    and a few short old numbers (6 digits)."""
    kind = rng.random(n)
    digits = np.where(kind < 0.70, 9, np.where(kind < 0.95, 8, 6))
    first = np.where(digits == 9, 9, rng.integers(2, 6, n))
    size = 10 ** (digits - 1)
    area = np.asarray(AREA_CODES)[rng.integers(0, len(AREA_CODES), n)]
    return (5_500 + area) * size * 10 + first * size + (rng.random(n) * size).astype(np.int64)


def _messages(seed: int, scale: float, stores: _Stores) -> _Messages:
    rng = _rng(seed, _CONVERSATIONS_TAG)
    launch = max(1, round(LAUNCH_CONVERSATIONS * scale))
    days = _arrivals(rng, CONVERSATIONS_BY_REFERENCE * scale, CONVERSATION_GROWTH, launch).astype(np.int64)
    opened = _in_hours(rng, days, SUPPORT_HOURS)
    known = np.maximum(np.searchsorted(stores.first_day, opened // DAY_MS, side="right"), 1)
    store = np.minimum((rng.random(opened.size) * known).astype(np.int64), known - 1)
    count = np.minimum(1 + rng.geometric(MESSAGES_GEOMETRIC_P, opened.size), MAX_MESSAGES)
    conversation = np.repeat(np.arange(opened.size), count)
    position = np.arange(conversation.size) - np.repeat(np.cumsum(count) - count, count)
    gap = (rng.exponential(MESSAGE_GAP_MEAN_MINUTES * 60_000, conversation.size) + 1_000).astype(np.int64)
    gap[position == 0] = 0
    cumulative = np.cumsum(gap)
    time = opened[conversation] + cumulative - np.repeat(cumulative[np.cumsum(count) - count], count)
    support = (position % 2 == 1) & (rng.random(conversation.size) < 0.9) | (position % 2 == 0) & (position > 0) & (
        rng.random(conversation.size) < 0.1
    )
    store_template = rng.choice(len(STORE_TEMPLATES), size=conversation.size, p=_weights(STORE_TEMPLATE_WEIGHTS))
    support_template = rng.choice(len(SUPPORT_TEMPLATES), size=conversation.size, p=_weights(SUPPORT_TEMPLATE_WEIGHTS))
    template = np.where(support, support_template, store_template)
    slots = np.where(
        support,
        np.array([t[1] for t in SUPPORT_TEMPLATES])[support_template],
        np.array([t[1] for t in STORE_TEMPLATES])[store_template],
    )
    phone = _phones(rng, 2 * conversation.size).reshape(-1, 2)
    flip = rng.random(conversation.size) < PHONE_FLIP_RATE

    order = np.argsort(time, kind="stable")
    time, conversation, support, template, slots, phone, flip = (
        a[order] for a in (time, conversation, support, template, slots, phone, flip)
    )
    # Repeats: a row copied (exactly) after itself, or a message reusing the id of its conversation's previous one.
    repeat = rng.random(time.size) < REPEAT_ID_RATE
    half = rng.random(time.size) < 0.5
    by_conversation = np.lexsort((np.arange(time.size), conversation))
    previous = np.full(time.size, -1)
    follows = ~_group_starts(conversation[by_conversation])
    previous[by_conversation[follows]] = by_conversation[np.flatnonzero(follows) - 1]
    copy = repeat & (half | (previous < 0))  # a conversation's first message can only be copied
    message_id = 7_000_001 + np.arange(time.size)
    for i in np.flatnonzero(repeat & ~copy & (previous >= 0)).tolist():  # in time order: chains resolve
        message_id[i] = message_id[previous[i]]
    rows = np.repeat(np.arange(time.size), np.where(copy, 2, 1))
    return _Messages(
        time=time[rows], message_id=message_id[rows], conversation=conversation[rows],
        store=store[conversation[rows]], support=support[rows], template=template[rows], slots=slots[rows],
        phone=phone[rows], flip=flip[rows],
    )  # fmt: skip


def _display(phone: str) -> str:
    """A phone as a person types it: `(77) 91234-5678`, `(71) 3322-1100`, `77 127600`."""
    area, number = phone[3:5], phone[5:]
    return f"({area}) {number[:-4]}-{number[-4:]}" if len(number) >= 8 else f"{area} {number}"


def conversation_rows(day: date, seed: int = 42, scale: float | None = None) -> Iterator[tuple]:
    """The rows of the day's `conversation.csv`."""
    scale = _check(seed, scale)
    universe = _universe(seed, scale)
    messages = universe.messages
    n = int(np.searchsorted(messages.time, (_day_number(day) + 1) * DAY_MS, side="left"))
    store_ids = universe.stores.store_id[messages.store[:n]].tolist()
    for message_id, conversation, store_id, support, template, created, slots, phone, flip in zip(
        messages.message_id[:n].tolist(), messages.conversation[:n].tolist(), store_ids,
        messages.support[:n].tolist(), messages.template[:n].tolist(), _time_texts(messages.time[:n]),
        messages.slots[:n].tolist(), messages.phone[:n].tolist(), messages.flip[:n].tolist(), strict=True,
    ):  # fmt: skip
        phones = [f"+{number}" for number in phone[:slots]]
        text = (SUPPORT_TEMPLATES if support else STORE_TEMPLATES)[template][0].format(*map(_display, phones))
        has_phone = bool(phones) != flip
        yield (
            message_id, 900_001 + conversation, store_id, "support" if support else "store", created, text,
            str(has_phone), repr(phones or [None]),
        )  # fmt: skip


# --------------------------------------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class _Universe:
    stores: _Stores
    sales: _Sales
    messages: _Messages


@lru_cache(maxsize=2)
def _universe(seed: int, scale: float) -> _Universe:
    """The whole simulated history of a seed and scale (cached: the same every call)."""
    stores = _stores(seed, scale)
    return _Universe(stores, _sales(seed, scale), _messages(seed, scale, stores))


def _check(seed: int, scale: float | None) -> float:
    scale = DEFAULT_SCALE if scale is None else float(scale)
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if not 0 < scale <= MAX_SCALE:
        raise ValueError(f"scale must be > 0 and at most {MAX_SCALE}, got {scale}")
    return scale


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write a CSV atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def day_dir(landing_dir: Path, day: date) -> Path:
    """Where the files of `day` land: `<landing>/subscriptions/<YYYY-MM-DD>/`."""
    return Path(landing_dir) / SOURCE / day.isoformat()


def write_snapshot(folder: Path, day: date, seed: int = 42, scale: float | None = None) -> list[Path]:
    """Write the five files of `day`'s snapshot into `folder`; return their paths."""
    scale = _check(seed, scale)
    folder = Path(folder)
    rows = {
        STORES_FILE: store_rows,
        TRANSACTIONS_FILE: transaction_rows,
        CUSTOMERS_FILE: customer_rows,
        PRODUCTS_FILE: product_rows,
        CONVERSATIONS_FILE: conversation_rows,
    }
    return [_write_csv(folder / name, FILES[name], rows[name](day, seed, scale)) for name in FILES]


def generate_subscriptions(
    landing_dir: Path, start: date, days: int, seed: int = 42, scale: float | None = None
) -> list[Path]:
    """Write the five snapshot files of each of `days` days from `start`; return the paths."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    scale = _check(seed, scale)
    paths: list[Path] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        paths.extend(write_snapshot(day_dir(landing_dir, day), day, seed, scale))
    return paths


# ----------------------------------------------------------------------------------------------------------- bench


def _chains(rng: np.random.Generator, count: np.ndarray, mean_days: np.ndarray, day: int, open_share: float,
            adjacent: float) -> tuple[np.ndarray, ...]:  # fmt: skip
    """`count[i]` chained periods per store ending by `day`: (store, start, to (OPEN if running), first-of-store,
    step kind: 0 overlap, 1 touch, 2 gap)."""
    store = np.repeat(np.arange(count.size), count)
    first = _group_starts(store)
    n = store.size
    length = 1 + np.minimum(rng.exponential(mean_days[store]), 2 * mean_days[store]).astype(np.int64)  # bounded
    kind = np.where(rng.random(n) < adjacent, rng.integers(0, 2, n), 2)
    step = np.select([kind == 0, kind == 1], [0, 1], rng.integers(2, 120, n))
    step[first] = 0
    kind[first] = 0
    # Offsets from the store's first day: start[j] = start[j-1] + length[j-1] - 1 + step[j].
    advance = np.r_[0, length[:-1] - 1] + step
    advance[first] = 0
    offset = np.cumsum(advance)
    offset -= np.repeat(offset[first], count[count > 0])
    last = np.r_[first[1:], True] if n else first
    end_offset = offset + length - 1
    running = rng.random(count.size) < open_share
    anchor = day - np.where(running, 0, rng.integers(1, 90, count.size))  # the last period's last day
    start = anchor[store] - end_offset[last][np.cumsum(first) - 1] + offset
    to = np.where(last & running[store], OPEN, start + length - 1)
    return store, start, to, first, kind


def _bench_cells(rng: np.random.Generator, installs: np.ndarray, subscriptions: np.ndarray, day: int
                 ) -> tuple[list[str], list[str]]:  # fmt: skip
    """The two history cells of a chunk of stores with the given period counts."""
    span = max(day, 60)  # days since FIRST_DAY: the chains mostly start after it
    mean = np.minimum(900.0, 0.4 * span) / np.maximum(installs, 1)
    mean[installs == LONG_HISTORY] = 20.0
    store, start, to, first, kind = _chains(rng, installs, mean, day, 0.8, 0.6)
    running = to == OPEN
    start_type = np.where(first, NULL, np.where(kind <= 1, REOPENED, REACTIVATED))
    end_type = np.where(running, UNKNOWN, rng.choice(3, size=store.size, p=_weights(END_TYPE_WEIGHTS)))
    install = _install_json(_day_texts(start), running.tolist(), _day_texts(np.where(running, 0, to)),
                            start_type.tolist(), end_type.tolist())  # fmt: skip
    install_cells = _cells(store, install, installs.size)
    sub_store, sub_start, sub_to, sub_first, _ = _chains(
        rng, subscriptions, np.minimum(30.0, 0.45 * span / np.maximum(subscriptions, 1)), day, 0.6, 1.0
    )
    sub_running = sub_to == OPEN
    plan = rng.choice(len(PLANS), size=sub_store.size, p=_weights(PLAN_WEIGHTS))
    subscription = _subscription_json(_day_texts(sub_start), sub_running.tolist(),
                                      _day_texts(np.where(sub_running, 0, sub_to)), plan.tolist())  # fmt: skip
    return install_cells, _cells(sub_store, subscription, subscriptions.size)


def write_stores_snapshot(path: Path, day: date, stores: int, periods: int, seed: int = 42) -> int:
    """Write a `dataset_sample.csv` of `stores` stores with `periods` install and subscription periods in all (for
    `make bench`), as known at the end of `day`; return the number of periods written.

    Shapes as the generator's: ~84% of the stores with one install period, one store with 37 (when periods allow),
    two thirds with `[]` subscriptions, the rest of the periods spread over the subscribed stores (heavy-tailed).
    Written a chunk of CHUNK_STORES stores at a time (bounded memory)."""
    if stores < 1 or periods < stores:
        raise ValueError(f"need stores >= 1 and periods >= stores, got {stores} stores and {periods} periods")
    rng = _rng(seed, _BENCH_TAG, day.toordinal())
    installs = np.where(rng.random(stores) < 0.84, 1, np.minimum(1 + rng.geometric(0.45, stores), MAX_INSTALLS))
    long_store = stores // 2
    installs[long_store] = LONG_HISTORY
    if installs.sum() > periods:  # few periods: fewer reinstalls
        extra = rng.multinomial(periods - stores, _weights(installs - 1))
        installs = 1 + extra
    subscribed = np.flatnonzero(rng.random(stores) < 1 / 3)
    budget = periods - int(installs.sum())
    subscriptions = np.zeros(stores, np.int64)
    if budget >= subscribed.size:
        subscriptions[subscribed] = 1 + rng.multinomial(
            budget - subscribed.size, _weights(rng.lognormal(0.0, 0.5, subscribed.size))
        )
    elif budget > 0:
        subscriptions[rng.choice(subscribed, size=budget, replace=False)] = 1
    store_id = 10_000 + np.cumsum(rng.integers(1, 4, stores))
    d = _day_number(day)

    def rows() -> Iterator[tuple[int, str, str]]:
        for chunk, first in enumerate(range(0, stores, CHUNK_STORES)):
            part = slice(first, first + CHUNK_STORES)
            install, subscription = _bench_cells(
                _rng(seed, _BENCH_TAG, day.toordinal(), chunk), installs[part], subscriptions[part], d
            )
            yield from zip(store_id[part].tolist(), install, subscription, strict=True)

    _write_csv(Path(path), STORES_COLUMNS, rows())
    return int(installs.sum() + subscriptions.sum())
