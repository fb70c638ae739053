"""The independent reader: opens Parquet objects with pyarrow and prints, as JSON, each file's
schema (column names and pyarrow type names) and row count. Used by the Rust end-to-end tests to
prove the lake reads back as the Glue catalog declares it, with a reader that is not ours."""

import json
import sys

import pyarrow.parquet as pq


def describe(path):
    table = pq.read_table(path)
    return {
        "path": path,
        "rows": table.num_rows,
        "columns": [[field.name, str(field.type)] for field in table.schema],
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
