"""Postgres connection settings, parsed in one place and written out for every client.

Read from: a libpq URL or `key=value` string (`ELT_WAREHOUSE_URL`), an Airflow connection (`AIRFLOW_CONN_<ID>`
as a URI or JSON, or the Connection object a task gets), a SQLAlchemy URL (Airflow's metadata database).
Written as: psycopg's conninfo, a libpq URL (psql, `elt db url`), a SQLAlchemy URL (GX, Airflow's metadata),
an Airflow connection URI, and libpq environment variables (dbt, whose profile has no `options`).

Every libpq option besides host, port, user, password and dbname (`sslmode`, `application_name`,
`options`, `sslrootcert`, `target_session_attrs`, ...) is kept in every form, and every connection runs in
UTC: `options` always ends with `-c TimeZone=UTC`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import URL, make_url

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 5432
DEFAULT_USER = "postgres"
DEFAULT_DBNAME = "warehouse"
CORE_KEYWORDS = ("host", "port", "user", "password", "dbname")
UTC_OPTION = "-c TimeZone=UTC"


@cache
def libpq_keywords() -> dict[str, str | None]:
    """Every connection keyword the bundled libpq knows, with its environment variable (None if it has none)."""
    return {
        option.keyword.decode(): option.envvar.decode() if option.envvar else None
        for option in pq.Conninfo.get_defaults()
    }


def with_utc(options: str) -> str:
    """libpq `options` that end with `-c TimeZone=UTC` (added unless already last: a later -c wins)."""
    if options.split()[-2:] == UTC_OPTION.split():
        return options
    return f"{options} {UTC_OPTION}".strip()


@dataclass(frozen=True)
class ServerParams:
    """Where a Postgres database is: host (or socket directory), port, user, password, database, and the other
    libpq options (`sslmode`, `application_name`, `options`, ...) by keyword. `options` always ends with
    `-c TimeZone=UTC`, so every connection made from these settings runs in UTC."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    options: tuple[tuple[str, str], ...] | Mapping[str, Any] = field(default=())

    def __post_init__(self) -> None:
        pairs = dict(self.options.items() if isinstance(self.options, Mapping) else self.options)
        known = libpq_keywords()
        for key in pairs:
            if key in CORE_KEYWORDS or key not in known:
                raise ValueError(f"not a libpq option (or one with a field of its own): {key!r}")
        pairs = {key: str(value) for key, value in pairs.items() if value is not None}
        pairs["options"] = with_utc(pairs.get("options", ""))
        object.__setattr__(self, "options", tuple(sorted(pairs.items())))
        object.__setattr__(self, "port", int(self.port))

    def database(self, dbname: str) -> ServerParams:
        """The same server and options, another database."""
        return replace(self, dbname=dbname)

    def option(self, keyword: str) -> str | None:
        return dict(self.options).get(keyword)

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    # --- written out for each client ---------------------------------------------------------------

    def connect_kwargs(self) -> dict[str, str]:
        """libpq keywords and values (an empty password is left out: libpq then looks in ~/.pgpass)."""
        core = {"host": self.host, "port": str(self.port), "user": self.user, "dbname": self.dbname}
        if self.password:
            core["password"] = self.password
        return {**core, **dict(self.options)}

    def conninfo(self) -> str:
        """A libpq `key=value` string, for psycopg."""
        return make_conninfo("", **self.connect_kwargs())

    def libpq_url(self) -> str:
        """A `postgresql://` URL, for psql and psycopg (a socket directory goes in the query as `host`)."""
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        query = {"host": self.host, "port": str(self.port)} if self.is_socket else {}
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = auth if self.is_socket else f"{auth}{host}:{self.port}"
        query.update(self.options)
        return f"postgresql://{netloc}/{quote(self.dbname, safe='')}?{urlencode(query, quote_via=quote, safe='')}"

    def sqlalchemy_url(self, driver: str = "psycopg2") -> str:
        """A SQLAlchemy URL (GX, Airflow's metadata): the dialect passes the query's options on to libpq."""
        url = URL.create(
            f"postgresql+{driver}",
            username=self.user,
            password=self.password,
            host=None if self.is_socket else self.host,
            port=self.port,
            database=self.dbname,
            query={**({"host": self.host} if self.is_socket else {}), **dict(self.options)},
        )
        return url.render_as_string(hide_password=False)

    def airflow_conn_uri(self) -> str:
        """Value for `AIRFLOW_CONN_<ID>`: Airflow's URI form, the socket directory percent-encoded as the host and
        the options as extras."""
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        base = f"postgres://{auth}@{quote(self.host, safe='')}:{self.port}/{quote(self.dbname, safe='')}"
        return f"{base}?{urlencode(self.options)}"

    def libpq_env(self) -> dict[str, str]:
        """The options as libpq environment variables (`PGOPTIONS`, `PGSSLMODE`, ...), for clients that take
        no libpq keywords of their own (dbt); options without a variable are left out."""
        variables = libpq_keywords()
        return {variables[key]: value for key, value in self.options if variables[key]}


# --- read from each form ------------------------------------------------------------------------------


def from_libpq(conninfo: str) -> ServerParams:
    """A libpq URL (`postgresql://…`) or `key=value` string; libpq's own parser checks it."""
    parts = conninfo_to_dict(conninfo)
    return ServerParams(
        host=parts.pop("host", None) or DEFAULT_HOST,
        port=int(parts.pop("port", None) or DEFAULT_PORT),
        user=parts.pop("user", None) or DEFAULT_USER,
        password=parts.pop("password", None) or "",
        dbname=parts.pop("dbname", None) or DEFAULT_DBNAME,
        options=parts,
    )


def from_sqlalchemy_url(url: str | URL) -> ServerParams:
    """A SQLAlchemy URL such as Airflow's `sql_alchemy_conn` (a socket directory in the query as `host`)."""
    url = make_url(url)
    query = {key: value if isinstance(value, str) else value[-1] for key, value in url.query.items()}
    host = query.pop("host", None)
    port = query.pop("port", None)
    return ServerParams(
        host=url.host or host or DEFAULT_HOST,
        port=int(url.port or port or DEFAULT_PORT),
        user=url.username or DEFAULT_USER,
        password=url.password or "",
        dbname=url.database or DEFAULT_DBNAME,
        options=query,
    )


def from_airflow_fields(
    host: str | None,
    port: int | str | None,
    login: str | None,
    password: str | None,
    schema: str | None,
    extra: Mapping[str, Any] | None = None,
) -> ServerParams:
    """An Airflow Postgres connection's fields (`schema` is the database). Extras that are libpq options are
    kept; the others (`cursor`, `sqlalchemy_scheme`, ...) belong to Airflow's hook and are left out, as the
    hook leaves them out of its connections."""
    known = libpq_keywords()
    options = {key: value for key, value in (extra or {}).items() if key in known and key not in CORE_KEYWORDS}
    return ServerParams(
        host=host or DEFAULT_HOST,
        port=int(port or DEFAULT_PORT),
        user=login or DEFAULT_USER,
        password=password or "",
        dbname=schema or DEFAULT_DBNAME,
        options=options,
    )


class AirflowConnection(Protocol):
    """What Airflow's Connection object offers (a task's `BaseHook.get_connection`)."""

    host: str | None
    port: int | None
    login: str | None
    password: str | None
    schema: str | None

    @property
    def extra_dejson(self) -> dict: ...


def from_airflow_connection(conn: AirflowConnection) -> ServerParams:
    """An Airflow Connection object."""
    return from_airflow_fields(conn.host, conn.port, conn.login, conn.password, conn.schema, conn.extra_dejson)


def from_airflow_uri(uri: str) -> ServerParams:
    """Airflow's URI form, read the way Airflow reads it: percent-encoded parts, the extras as the query (or
    JSON in `__extra__`)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"not a Postgres connection URI (scheme {parts.scheme!r})")
    host = unquote(parts.hostname or "")
    if "/" in host:  # a socket directory: keep its case (`hostname` lowercases)
        host = unquote(parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0])
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra = json.loads(query["__extra__"]) if "__extra__" in query else query
    return from_airflow_fields(
        host,
        parts.port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        unquote(parts.path[1:]),
        extra,
    )


def from_airflow_json(text: str) -> ServerParams:
    """Airflow's JSON form: `{"conn_type": "postgres", "host": …, "login": …, "schema": …, "extra": {…}}`."""
    conn = json.loads(text)
    extra = conn.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra)
    return from_airflow_fields(
        conn.get("host"), conn.get("port"), conn.get("login"), conn.get("password"), conn.get("schema"), extra
    )


def from_airflow_value(value: str) -> ServerParams:
    """The value of `AIRFLOW_CONN_<ID>`, in its URI or JSON form."""
    return from_airflow_json(value) if value.lstrip().startswith("{") else from_airflow_uri(value)
