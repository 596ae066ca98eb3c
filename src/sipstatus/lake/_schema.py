"""Schema v1 of the lake's two tables, ``messages`` and ``calls`` (docs/lake.md says what
each column means and where it comes from; a test holds that page to this module).

Stable from version 1 on: columns may be added, none renamed or retyped. The version is
stored in the key-value metadata of every Parquet file (``sipstatus.schema``).
"""

from __future__ import annotations

from typing import Any

from sipstatus.lake._arrow import pyarrow

SCHEMA_VERSION = "1"
#: Key-value metadata of every file: the schema version and the table.
VERSION_KEY = "sipstatus.schema"
TABLE_KEY = "sipstatus.table"

# The type of each column, as docs/lake.md writes it. "dictionary<string>" marks the
# low-cardinality text columns, dictionary-encoded in Arrow and in Parquet.
MESSAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ts", "timestamp[us, UTC]"),
    ("capture", "dictionary<string>"),
    ("frame", "int64"),
    ("src", "dictionary<string>"),
    ("sport", "int32"),
    ("dst", "dictionary<string>"),
    ("dport", "int32"),
    ("transport", "dictionary<string>"),
    ("kind", "dictionary<string>"),
    ("method", "dictionary<string>"),
    ("request_uri", "string"),
    ("status_code", "int16"),
    ("reason", "dictionary<string>"),
    ("category", "dictionary<string>"),
    ("action", "dictionary<string>"),
    ("retry_after_s", "int64"),
    ("call_id", "string"),
    ("cseq_seq", "int64"),
    ("cseq_method", "dictionary<string>"),
    ("via_branch", "string"),
    ("from_user", "string"),
    ("from_host", "dictionary<string>"),
    ("from_tag", "string"),
    ("to_user", "string"),
    ("to_host", "dictionary<string>"),
    ("to_tag", "string"),
    ("user_agent", "dictionary<string>"),
    ("has_sdp", "bool"),
    ("body_len", "int64"),
    ("resend", "bool"),
    ("response_time_ms", "float64"),
    ("defects", "list<string>"),
    ("error", "string"),
    ("call_key", "string"),
)
#: Only in a lake built with ``raw=True`` (``--raw``): the message bytes.
RAW_COLUMN = ("raw", "binary")

CALL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("call_key", "string"),
    ("call_ids", "list<string>"),
    ("caller", "string"),
    ("callee", "string"),
    ("first_ts", "timestamp[us, UTC]"),
    ("invite_ts", "timestamp[us, UTC]"),
    ("answer_ts", "timestamp[us, UTC]"),
    ("end_ts", "timestamp[us, UTC]"),
    ("outcome", "dictionary<string>"),
    ("final_code", "int16"),
    ("final_reason", "dictionary<string>"),
    ("q850_cause", "int16"),
    ("ended_by", "dictionary<string>"),
    ("pdd_ms", "float64"),
    ("setup_ms", "float64"),
    ("duration_s", "float64"),
    ("messages", "int64"),
    ("resends", "int64"),
    ("captures", "list<string>"),
)

#: The column each table is partitioned by (date=, hour=) and sorted by after call_key.
TIME_COLUMN = {"messages": "ts", "calls": "first_ts"}


def _arrow_types(pa: Any) -> dict[str, Any]:
    """The Arrow type of each type name of the column lists."""
    return {"string": pa.string(), "binary": pa.binary(), "bool": pa.bool_(),
            "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
            "float64": pa.float64(), "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
            "dictionary<string>": pa.dictionary(pa.int32(), pa.string()),
            "list<string>": pa.list_(pa.string())}


def columns(table: str, *, raw: bool = False) -> tuple[tuple[str, str], ...]:
    """The (name, type) of each column of ``table`` ("messages" or "calls")."""
    if table == "messages":
        return (*MESSAGE_COLUMNS, RAW_COLUMN) if raw else MESSAGE_COLUMNS
    if table == "calls":
        return CALL_COLUMNS
    raise ValueError(f"no lake table {table!r}")


def schema(table: str, *, raw: bool = False) -> Any:
    """The ``pyarrow.Schema`` of ``table``, its version and name in the metadata."""
    pa = pyarrow()
    types = _arrow_types(pa)
    fields = [pa.field(name, types[kind]) for name, kind in columns(table, raw=raw)]
    return pa.schema(fields, metadata={VERSION_KEY: SCHEMA_VERSION, TABLE_KEY: table})
