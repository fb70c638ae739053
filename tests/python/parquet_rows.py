"""The independent reader's rows: opens one Parquet file with pyarrow and prints its rows as a JSON
array of objects, column names as the file has them. Timestamps print as `YYYY-MM-DD HH:MM:SS`
(pyarrow's own rendering) and maps as objects, so a Rust test can compare values, not only the
schema that read_parquet.py reports."""

import json
import sys

import pyarrow.parquet as pq


def plain(value):
    """Maps arrive from pyarrow as lists of (key, value) pairs."""
    if isinstance(value, list) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return {k: v for k, v in value}
    return value


if __name__ == "__main__":
    table = pq.read_table(sys.argv[1])
    rows = [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()]
    print(json.dumps(rows, default=str))
