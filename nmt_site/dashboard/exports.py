"""Tables as CSV or JSON responses. Both carry the same numbers; CSV writes None as an empty cell."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse, JsonResponse

from .errors import BenchmarkRequestError

FORMATS = ("csv", "json")


def table_response(table: dict, filename: str, fmt: str) -> HttpResponse:
    if fmt == "json":
        rows = [dict(zip(table["columns"], row, strict=False)) for row in table["rows"]]
        response = JsonResponse({"columns": table["columns"], "rows": rows}, json_dumps_params={"ensure_ascii": False})
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(table["columns"])
        writer.writerows([["" if v is None else v for v in row] for row in table["rows"]])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        raise BenchmarkRequestError("unknown_format", f"Export as {' or '.join(FORMATS)}, not {fmt!r}.")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
