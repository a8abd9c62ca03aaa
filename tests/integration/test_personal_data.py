"""Personal values: masked in audit.dq_exceptions, and out of the analyst's reach in raw."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from elt import warehouse
from elt.load import load_partition
from elt.quality import validate_partition
from elt.warehouse import ANALYST, LOADER, ServerParams, role_params

DAY = date(2024, 3, 1)


def land_users(landing: Path) -> None:
    """A users file whose second user's coordinates fail their rules: personal values in failing rows."""
    folder = landing / "thelook" / DAY.isoformat()
    folder.mkdir(parents=True)
    header = (
        "id,first_name,last_name,email,age,gender,state,street_address,postal_code,city,country,"
        "latitude,longitude,traffic_source,created_at\n"
    )
    rows = [
        "1,Ada,Lovelace,ada.lovelace@example.com,36,F,London,12 St James's Square,SW1Y 4JH,London,UK,"
        "51.5,-0.13,Search,2024-03-01 10:00:00+00\n",
        "2,Alan,Turing,alan.turing(at)example.com,41,M,Cheshire,43 Adlington Road,SK9 4LP,Wilmslow,UK,"
        "N 53°19',-200.5,Email,2024-03-01 11:00:00+00\n",
    ]
    (folder / "users.csv").write_text(header + "".join(rows))


def test_the_analyst_sees_personal_values_only_masked(warehouse_params: ServerParams, landing: Path) -> None:
    land_users(landing)
    load_partition("thelook", DAY, landing, params=role_params(LOADER, warehouse_params))
    validate_partition("thelook", DAY, params=role_params(LOADER, warehouse_params))
    with warehouse.connect(role_params(ANALYST, warehouse_params)) as conn:
        found = dict(
            conn.execute(
                "select column_name, bad_value from audit.dq_exceptions where table_name = 'users' and source_row = 3"
            ).fetchall()
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select email from raw_thelook.users")
    # the shape of the value is kept, so the problem shows; its letters and digits are not
    assert found == {"latitude": "* **°**'", "longitude": "-***.*"}
