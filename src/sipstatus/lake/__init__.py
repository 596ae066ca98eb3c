"""The SIP lake: every SIP message and call of a pile of captures as Parquet tables.

- :func:`build` turns captures (files, directories, globs) into ``out/messages/`` and
  ``out/calls/``: schema v1, Hive-partitioned by ``date=``/``hour=``, zstd, sorted by
  ``call_key`` then time within a file (``sipstatus scan --format parquet --out DIR``).
- :func:`to_arrow` yields the messages of one capture as ``pyarrow.RecordBatch``es (also
  ``sipstatus.capture.to_arrow``).
- :func:`schema` gives the ``pyarrow.Schema`` of ``"messages"`` or ``"calls"``.

The tables, their columns and how to query them (DuckDB, Polars, Spark) are described in
docs/lake.md. pyarrow is an optional dependency, loaded on first use:
``pip install 'sipstatus[lake]'``.
"""

from __future__ import annotations

from sipstatus.lake._build import LakeBuild, LakeError, build, expand_inputs
from sipstatus.lake._map import to_arrow
from sipstatus.lake._schema import SCHEMA_VERSION, columns, schema

__all__ = ["SCHEMA_VERSION", "LakeBuild", "LakeError", "build", "columns", "expand_inputs",
           "schema", "to_arrow"]
