"""Writing the certificate export (CSV or XLSX) from ``queries.export_rows``, streaming.

One function for the command line and the dashboard: rows come from keyset batches and go
straight to the output, so memory stays flat whatever the number of certificates. The XLSX
writer is openpyxl's write-only mode (rows go to a temporary file as they are appended).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

from trainer import spreadsheets
from trainer.certificates import queries
from trainer.certificates.timelines import DbSession


def safe_cell(value: str) -> str:
    """Quote a cell Excel would run as a formula (certificate numbers come from uploads)."""
    return str(spreadsheets.safe_cell(value))


def csv_chunks(rows: Iterable[list[str]], rows_per_chunk: int = 2000) -> Iterator[str]:
    """CSV text in chunks (UTF-8 BOM first so Excel opens Chinese text correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    buffer.write("\ufeff")
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(cell) for cell in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def write_csv(rows: Iterable[list[str]], stream: IO[bytes]) -> int:
    """Write rows as UTF-8 CSV; returns the number of data rows (header excluded)."""
    counter = _Counter(rows)
    for chunk in csv_chunks(counter):
        stream.write(chunk.encode("utf-8"))
    return max(counter.count - 1, 0)


def write_xlsx(rows: Iterable[list[str]], stream: IO[bytes], sheet_title: str = "certificates"
               ) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title)
    count = -1
    for row in rows:
        sheet.append([safe_cell(cell) for cell in row])
        count += 1
    book.save(stream)
    return max(count, 0)


class _Counter:
    def __init__(self, rows: Iterable[list[str]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[list[str]]:
        for row in self.rows:
            self.count += 1
            yield row


def csv_stream(session: DbSession, filters: queries.CertificateFilter) -> Iterator[bytes]:
    """The export as CSV bytes, streamed: the command line and the dashboard both use this.

    On PostgreSQL the database writes the CSV (``COPY (export_select) TO STDOUT``); elsewhere
    the rows come from ``queries.export_rows`` in keyset batches. Same bytes either way.
    """
    if session.get_bind().dialect.name == "postgresql":
        yield from _copy_csv(session, filters)
        return
    for chunk in csv_chunks(queries.export_rows(session, filters)):
        yield chunk.encode("utf-8")


def _copy_csv(session: DbSession, filters: queries.CertificateFilter) -> Iterator[bytes]:
    dialect = session.get_bind().dialect
    # Literal values (dates, codes, the search text) rendered by the connected dialect, which
    # knows the server's string-escaping rules; COPY takes no bind parameters.
    sql = str(queries.export_select(filters).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}))
    raw: Any = session.connection().connection.driver_connection
    yield "\ufeff".encode()
    with raw.cursor() as cursor, cursor.copy(
        f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)"
    ) as copy:
        for data in copy:
            yield bytes(data)


def write_csv_stream(session: DbSession, filters: queries.CertificateFilter,
                     stream: IO[bytes]) -> int:
    """Write the CSV export; returns the number of certificates (lines minus the header)."""
    lines = 0
    for chunk in csv_stream(session, filters):
        stream.write(chunk)
        lines += chunk.count(b"\n")
    return max(lines - 1, 0)
