"""Fast inserts of many rows: COPY on PostgreSQL, executemany elsewhere.

Like ``bulk_create`` this bypasses save signals, so callers record the audit themselves
(one event per batch, in the same transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections, router


def insert_rows(model, columns: Sequence[str], rows: Iterable[Sequence], *, using=None) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, database column names) into
    ``model``'s table; returns the number of rows. Runs inside the caller's transaction."""
    using = using or router.db_for_write(model)
    connection = connections[using]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            batch: list[Sequence] = []
            for row in rows:
                batch.append(row)
                if len(batch) == 10_000:
                    cursor.executemany(
                        f"INSERT INTO {table} ({names}) VALUES ({placeholders})", batch
                    )
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", batch)
                count += len(batch)
    return count
