"""CSV files as spreadsheets read them: UTF-8 with a BOM, the separator that fits the language's
decimal mark, numbers written as the pages show them, no cell a spreadsheet would run as a formula.

The cooperative report (`casework.dashboard.views.report_csv`) writes one small file at once; the
staff case list streams its rows (`streaming_csv`) so that a large export never holds them all.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import formats, timezone, translation

BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"
LINE_END = "\r\n"
# Rows written per chunk of a streamed file: a few kilobytes per write, not one write per row.
ROWS_PER_CHUNK = 200
# How an instant is written: local time, the same in every language, which spreadsheets parse.
INSTANT_FORMAT = "Y-m-d H:i"


def delimiter() -> str:
    """`;` where the decimal mark is a comma (Italian), `,` where it is a point (English)."""
    return ";" if formats.get_format("DECIMAL_SEPARATOR") == "," else ","


def cell(value) -> str:
    """A CSV cell as the page shows it; text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(formats.localize(value, use_l10n=True))
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), INSTANT_FORMAT)
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class _Line:
    """A file-like object whose `write` hands back what it was given (csv writes one row)."""

    def write(self, value: str) -> str:
        return value


def streaming_csv(rows: Iterable[Iterable], *, filename: str) -> StreamingHttpResponse:
    """A CSV download written while it is sent, in the language of the request that asked.

    `rows` (the header first) is read lazily, once; its cells go through `cell`. The language is
    kept for the whole file: the rows are written after the view has returned.
    """
    language = translation.get_language()

    def content() -> Iterator[str]:
        with translation.override(language):
            writer = csv.writer(_Line(), delimiter=delimiter(), lineterminator=LINE_END)
            chunk = [BOM]
            for row in rows:
                chunk.append(writer.writerow([cell(value) for value in row]))
                if len(chunk) >= ROWS_PER_CHUNK:
                    yield "".join(chunk)
                    chunk = []
            if chunk:
                yield "".join(chunk)

    response = StreamingHttpResponse(content(), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
