"""The JSON reader without a database: an array of records as COPY text, numbers exact, each problem naming the
record as `jq '.[N]'` finds it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from reader_memory import read_in_own_process

from elt.readers import FileError, Wanted, open_stream

COLUMNS = ("order_id", "order_time_pst", "ship_to_district_name", "ship_to_city_cd", "rptg_amt", "currency_cd")
WANTED = Wanted((*COLUMNS, "order_qty"), COLUMNS)


def record(n: int, **changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        "ORDER_ID": f"G{n:010d}",
        "ORDER_TIME_PST": "2024-03-01 10:00:00",
        "SHIP_TO_DISTRICT_NAME": "浦东新区",
        "SHIP_TO_CITY_CD": "SH",
        "RPTG_AMT": 12.5,
        "CURRENCY_CD": "CNY",
        "ORDER_QTY": 2,
    }
    item.update(changes)
    return {k: v for k, v in item.items() if v is not ...}


def land(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "dataset2.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def text(path: Path, wanted: Wanted = WANTED) -> str:
    stream = open_stream(path, wanted)
    assert stream.selected and stream.row_numbers and stream.columns == list(wanted.columns)
    return b"".join(stream.chunks).decode()


def test_records_become_copy_text_with_their_index(tmp_path: Path) -> None:
    path = land(tmp_path, json.dumps([record(1), record(2, ORDER_QTY=None, SHIP_TO_CITY_CD="")], ensure_ascii=False))
    assert text(path) == (
        '"G0000000001","2024-03-01 10:00:00","浦东新区","SH",12.5,"CNY",2,0\n'
        '"G0000000002","2024-03-01 10:00:00","浦东新区","",12.5,"CNY",,1\n'
    ), "null is NULL (unquoted), an empty string stays an empty string (quoted)"


def test_numbers_keep_their_exact_text(tmp_path: Path) -> None:
    raw = '[{"ORDER_ID": 12345678901234567890123, "RPTG_AMT": 0.10, "ORDER_QTY": 1e2, "ORDER_TIME_PST": -0.0,'
    raw += ' "SHIP_TO_DISTRICT_NAME": true, "SHIP_TO_CITY_CD": false, "CURRENCY_CD": 4237.3199999999997}]'
    assert text(land(tmp_path, raw)) == "12345678901234567890123,-0.0,true,false,0.10,4237.3199999999997,1E+2,0\n"


def test_nested_values_load_as_json_text(tmp_path: Path) -> None:
    path = land(tmp_path, json.dumps([record(1, CURRENCY_CD={"code": "CNY", "rate": [1, 0.1]}, ORDER_QTY=[])]))
    [row] = csv.reader(io.StringIO(text(path)))
    assert row[5:] == ['{"code":"CNY","rate":[1,0.1]}', "[]", "0"]


def test_keys_outside_the_contract_are_reported_not_loaded(tmp_path: Path) -> None:
    path = land(tmp_path, json.dumps([record(1, NOTE="x"), record(2, Extra_Key=1, NOTE="y")]))
    stream = open_stream(path, WANTED)
    assert b"".join(stream.chunks).count(b"\n") == 2
    assert stream.extra == ["note", "extra_key"], "found while streaming, in order of appearance"


def test_an_optional_key_may_be_missing(tmp_path: Path) -> None:
    path = land(tmp_path, json.dumps([record(1, ORDER_QTY=...)]))
    assert text(path).endswith(',"CNY",,0\n')


def test_a_bom_and_white_space_before_the_array(tmp_path: Path) -> None:
    path = land(tmp_path, b"\xef\xbb\xbf \n " + json.dumps([record(1)]).encode())
    assert text(path).startswith('"G0000000001"')


def test_the_index_counts_from_zero_across_chunks(tmp_path: Path) -> None:
    records = [record(n, SHIP_TO_DISTRICT_NAME="x" * 2000) for n in range(3000)]
    lines = text(land(tmp_path, json.dumps(records))).splitlines()
    assert len(lines) == 3000 and lines[2999].endswith(",2999") and lines[2999].startswith('"G0000002999"')


def _gbk() -> bytes:
    good = json.dumps([record(n) for n in range(3)], ensure_ascii=False).encode()
    bad = (
        json.dumps([record(3)], ensure_ascii=False)
        .encode("utf-8")
        .replace("浦东新区".encode(), "浦东新区".encode("gbk"))
    )
    return good[:-1] + b", " + bad[1:]


FAILURES = {
    "not an array": (json.dumps({"data": [record(1)]}), r"the top level is an object \(\{\), not an array"),
    "a number at the top": ("  42", r"named as json but its content is csv"),
    "truncated": (
        json.dumps([record(n) for n in range(5)])[:-60],
        r"record \[4\]: the file ends before this record is complete or the array is closed: it is truncated",
    ),
    "invalid JSON": (
        json.dumps([record(n) for n in range(5)]).replace(
            '"CNY", "ORDER_QTY": 2}, {"ORDER_ID": "G0000000003"', "'CNY'}"
        ),
        r"record \[2\]: invalid JSON \(lexical error: invalid char in json text.; near ",
    ),
    "two arrays": (
        json.dumps([record(1)]) + json.dumps([record(2)]),
        r"after the array's last record \[0\]: more data",
    ),
    "an element that is not an object": (
        json.dumps([record(1), record(2), ["G3", 1]]),
        r"record \[2\]: an array, not an object: every element of the array must be an object",
    ),
    "a missing required key": (
        json.dumps([record(1), record(2, CURRENCY_CD=...)]),
        r"record \[1\]: no key currency_cd \(a required column\); the record has ORDER_ID, ORDER_TIME_PST,",
    ),
    "a NUL character": (json.dumps([record(1, CURRENCY_CD="C\x00")]), r"record \[0\]: currency_cd holds a NUL"),
    "two keys for one column": (
        json.dumps([{**record(1), "order id": "x", "Order_ID ": "y"}]),
        r"record \[0\]: two keys name column order_id",
    ),
    "GBK text": (
        _gbk(),
        r"record \[3\]: text that is not UTF-8 \(0xc6 0xd6 0xb6 0xab at byte [\d,]+\) \(possibly GBK/GB18030-encoded"
        r" Chinese: they read as '浦东新区.*' in GB18030\): save the file as UTF-8",
    ),
    "a record over 16 MiB": (
        json.dumps([record(1), record(2, SHIP_TO_DISTRICT_NAME="x" * (17 << 20))]),
        r"record \[1\]: more than 16 MiB of JSON in one record",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_bad_json_fails_naming_the_record(tmp_path: Path, case: str) -> None:
    content, message = FAILURES[case]
    path = land(tmp_path, content)
    with pytest.raises(FileError, match=message) as failure:
        text(path)
    assert str(failure.value).startswith(f"{path}: ")


def test_an_empty_array_has_no_rows(tmp_path: Path) -> None:
    assert text(land(tmp_path, "[]")) == ""


def test_a_gigantic_value_fails_early_in_bounded_memory(tmp_path: Path) -> None:
    """A 300 MB string in one record: the read stops soon after 16 MiB, and memory grows by far less than the file."""
    path = tmp_path / "dataset2.json"
    with path.open("wb") as handle:
        handle.write(b'[{"ORDER_ID": "G1"}, {"ORDER_ID": "')
        for _ in range(300):
            handle.write(b"x" * (1 << 20))
        handle.write(b'"}]')
    message, grown = read_in_own_process(path)
    assert "record [1]: more than 16 MiB of JSON in one record" in message, message
    assert grown < 150, f"peak RSS grew by {grown} MiB"
