"""The independent reader: opens Parquet objects with pyarrow and prints, as JSON, each file's
schema (column names and pyarrow type names) and row count. Used by the Rust end-to-end tests to
prove the lake reads back as the Glue catalog declares it, with a reader that is not ours."""

import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def type_name(t):
    """pyarrow's type name, without the Parquet group names it prints for maps (the writer's
    choice of name for the key/value group, which no reader depends on)."""
    if pa.types.is_map(t):
        return f"map<{type_name(t.key_type)}, {type_name(t.item_type)}>"
    return str(t)


def describe(path):
    table = pq.read_table(path)
    return {
        "path": path,
        "rows": table.num_rows,
        "columns": [[field.name, type_name(field.type)] for field in table.schema],
        "compression": sorted(
            {
                table_meta.column(i).compression
                for rg in range(pq.ParquetFile(path).metadata.num_row_groups)
                for table_meta in [pq.ParquetFile(path).metadata.row_group(rg)]
                for i in range(table_meta.num_columns)
            }
        ),
    }


if __name__ == "__main__":
    print(json.dumps([describe(p) for p in sys.argv[1:]]))
