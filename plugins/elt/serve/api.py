"""The voucher lookup API: which voucher amount should this customer get?

`GET /vouchers/most-used` answers with `marts.most_used_voucher(...)` (and the segment from
`marts.voucher_segment(...)`, which that function calls): the answer is the function's, not a second
implementation. Two request forms:

- query parameters `country_code, last_order_ts, total_orders, segment_type[, as_of]`;
- the older `customer=<url-encoded JSON>` with `customer_id, country_code, last_order_ts, first_order_ts,
  total_orders, segment_name` (segment_name plays segment_type), and the optional `as_of` beside it.

Errors: 404 for a country the marts do not know or a date with no mart on or before it; 422 for bad input;
503 when the warehouse cannot be reached. Connects as the analyst login role (reads marts and audit only), with
a few pooled connections; nothing connects at import (Airflow's processes import the plugin that mounts it).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import psycopg
from fastapi import FastAPI, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from elt.connection import ServerParams

INT4_MAX = 2**31 - 1
# text that Postgres takes: no NUL character (it refuses them in text values)
NO_NUL = r"^[^\x00]*$"


class SegmentType(StrEnum):
    recency_segment = "recency_segment"
    frequent_segment = "frequent_segment"


class VoucherAnswer(BaseModel):
    """The most-used voucher amount of the customer's country and segment."""

    voucher_amount: int | float | None = Field(
        description="The amount marts.most_used_voucher returns; null when the customer's segment has no voucher "
        "in this country (or the segment cannot be computed, e.g. a last order after the date)",
        examples=[2640],
    )
    segment: str | None = Field(description="The customer's segment, e.g. '180+' or '5-13'", examples=["180+"])
    segment_type: SegmentType
    as_of_date: date = Field(description="The mart's as_of_date the amount comes from")


class ErrorMessage(BaseModel):
    detail: str


class Customer(BaseModel):
    """The older request form: one JSON object in the query parameter `customer`."""

    model_config = ConfigDict(extra="ignore")

    customer_id: int | str
    country_code: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
    last_order_ts: datetime
    first_order_ts: datetime
    total_orders: Annotated[int, Field(ge=0, le=INT4_MAX)]
    segment_name: SegmentType


QUERY = """
select
    marts.most_used_voucher(%(country)s, %(last_order)s, %(orders)s, %(segment_type)s, %(as_of)s) as amount,
    marts.voucher_segment(%(segment_type)s, %(last_order)s, %(orders)s, %(as_of)s) as segment,
    (select max(as_of_date) from marts.voucher_most_used where as_of_date <= %(as_of)s) as mart_date,
    exists (
        select from marts.voucher_most_used
        where country_code = btrim(%(country)s) and as_of_date <= %(as_of)s
    ) as known_country
"""


class Pool:
    """A few connections to the warehouse, made on first use and reused; a broken one is dropped."""

    def __init__(self, params: Callable[[], ServerParams], size: int = 4) -> None:
        self._params = params
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._slots:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = psycopg.connect(self._params().conninfo(), autocommit=True, connect_timeout=5)
            try:
                yield conn
            except psycopg.OperationalError:
                conn.close()  # the server went away: the next request makes a new connection
                raise
            finally:
                if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.close()
                else:
                    self._idle.put(conn)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def analyst_params() -> ServerParams:
    """The warehouse `elt` is configured for, logged in as the analyst role (read at the first request)."""
    from elt import warehouse

    return warehouse.role_params(warehouse.ANALYST)


def _naive_utc(value: datetime | None, loc: tuple[str, ...]) -> datetime | None:
    """A timestamp for the function's `timestamp` argument: an offset is converted to UTC, then dropped."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise _invalid(loc, "timestamp out of range once converted to UTC", str(value)) from None


def _invalid(loc: tuple[str | int, ...], message: str, value: Any = None) -> RequestValidationError:
    """A 422 in FastAPI's own shape (the schema's HTTPValidationError)."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": message, "input": value}])


def create_app(params: Callable[[], ServerParams] = analyst_params, pool_size: int = 4) -> FastAPI:
    pool = Pool(params, pool_size)
    app = FastAPI(
        title="Voucher lookup",
        version="1.0",
        description="Which voucher amount should this customer get? The most-used amount in the customer's "
        "country and segment, from the mart voucher_most_used (read as the analyst role).",
    )
    app.state.pool = pool

    def lookup(
        country: str, last_order: datetime | None, orders: int | None, segment_type: SegmentType, as_of: date | None
    ) -> VoucherAnswer:
        try:
            with pool.connection() as conn:
                if as_of is None:
                    as_of = conn.execute("select max(as_of_date) from marts.voucher_most_used").fetchone()[0]
                    if as_of is None:
                        raise HTTPException(404, "the mart voucher_most_used is empty: no date has been built yet")
                amount, segment, mart_date, known_country = conn.execute(
                    QUERY,
                    {
                        "country": country,
                        "last_order": last_order,
                        "orders": orders,
                        "segment_type": segment_type.value,
                        "as_of": as_of,
                    },
                ).fetchone()
        except psycopg.OperationalError as exc:
            raise HTTPException(503, f"the warehouse cannot be reached: {str(exc).strip().splitlines()[0]}") from None
        except psycopg.errors.UndefinedTable:
            raise HTTPException(404, "the mart voucher_most_used is not built in this warehouse yet") from None
        except psycopg.errors.UndefinedFunction:
            raise HTTPException(503, "marts.most_used_voucher is missing: build the vouchers mart again") from None
        except psycopg.errors.DataError as exc:
            raise _invalid(("query",), f"value out of range: {exc.diag.message_primary}") from None
        if mart_date is None:
            raise HTTPException(404, f"no voucher_most_used mart on or before {as_of}")
        if not known_country:
            raise HTTPException(404, f"unknown country {country.strip()!r}: no voucher in the mart up to {as_of}")
        if isinstance(amount, Decimal):
            amount = int(amount) if amount == amount.to_integral_value() else float(amount)
        return VoucherAnswer(voucher_amount=amount, segment=segment, segment_type=segment_type, as_of_date=mart_date)

    @app.get(
        "/vouchers/most-used",
        response_model=VoucherAnswer,
        responses={
            404: {"model": ErrorMessage, "description": "Unknown country, or no mart (on or before the date)"},
            503: {"model": ErrorMessage, "description": "The warehouse cannot be reached"},
        },
        summary="The most-used voucher amount for a customer",
    )
    def most_used(
        country_code: Annotated[
            str | None, Query(min_length=1, max_length=200, pattern=NO_NUL, description="e.g. Peru")
        ] = None,
        last_order_ts: Annotated[
            datetime | None, Query(description="The customer's last order, e.g. 2018-05-03T00:00:00 (UTC)")
        ] = None,
        total_orders: Annotated[int | None, Query(ge=0, le=INT4_MAX)] = None,
        segment_type: SegmentType | None = None,
        as_of: Annotated[date | None, Query(description="Default: the latest as_of_date of the mart")] = None,
        customer: Annotated[
            str | None,
            Query(
                max_length=4000,
                description="The older form: a JSON object with customer_id, country_code, last_order_ts, "
                "first_order_ts, total_orders, segment_name (instead of the other parameters but as_of)",
            ),
        ] = None,
    ) -> VoucherAnswer:
        if customer is not None:
            given = [name for name, value in (("country_code", country_code), ("last_order_ts", last_order_ts),
                     ("total_orders", total_orders), ("segment_type", segment_type)) if value is not None]  # fmt: skip
            if given:
                raise _invalid(("query", given[0]), "give either `customer` or the separate parameters, not both")
            try:
                fields = json.loads(customer)
            except ValueError as exc:
                raise _invalid(("query", "customer"), f"customer is not JSON: {exc}", customer) from None
            try:
                parsed = Customer.model_validate(fields)
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_context=False)
                raise RequestValidationError(
                    [{**error, "loc": ("query", "customer", *error["loc"])} for error in errors]
                ) from None
            last_order = _naive_utc(parsed.last_order_ts, ("query", "customer", "last_order_ts"))
            return lookup(parsed.country_code, last_order, parsed.total_orders, parsed.segment_name, as_of)
        missing = [name for name, value in (("country_code", country_code), ("segment_type", segment_type))
                   if value is None]  # fmt: skip
        if missing:
            raise _invalid(("query", missing[0]), "field required (or give the older form `customer`)")
        needed = "last_order_ts" if segment_type is SegmentType.recency_segment else "total_orders"
        if (last_order_ts if needed == "last_order_ts" else total_orders) is None:
            raise _invalid(("query", needed), f"{needed} is required for {segment_type.value}")
        last_order = _naive_utc(last_order_ts, ("query", "last_order_ts"))
        return lookup(country_code, last_order, total_orders, segment_type, as_of)

    return app


app = create_app()
