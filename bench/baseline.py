"""The limits of the stack: bare Django views in the same process and database, with no
auth, serializer or ORM, that the API's scenarios are measured against."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

DOCUMENT = Path(__file__).with_name("results") / "programme_document.json"


@csrf_exempt
def insert_row(request: HttpRequest) -> JsonResponse:
    """Parses the same JSON as a session POST and inserts one row."""
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_baseline_row (client_id, body) VALUES (%s, %s)",
            [body["client_id"], json.dumps(body)],
        )
    return JsonResponse({"client_id": body["client_id"]}, status=201)


def fixed_document(request: HttpRequest) -> HttpResponse:
    """A fixed JSON document of the size of the patient's programme response."""
    return HttpResponse(_document(), content_type="application/json")


_cache: list[bytes] = []


def _document() -> bytes:
    if not _cache:
        _cache.append(DOCUMENT.read_bytes())
    return _cache[0]
