from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from django.db.models import Model, Q
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 50 by default; clients may ask for up to 200, never more."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class NewestFirstCursorPagination(pagination.BasePagination):
    """For append-only trails that grow without end: newest first by (occurred_at, id), pages
    linked by `next` / `previous` (an opaque `cursor`), and never a COUNT of the table.

    A keyset on both columns, not DRF's CursorPagination: that one keys on the first column
    alone plus an offset, and its `previous` link goes wrong when many rows share an instant
    (every row a list request records shares its `occurred_at`). One query a page, of
    `page_size + 1` rows, along the (organisation, -occurred_at) index."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_param = "cursor"
    time_field = "occurred_at"

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.base_url = request.build_absolute_uri()
        size = self._page_size(request)
        backwards, position = self._decode(request.query_params.get(self.cursor_query_param))
        at = self.time_field
        rows = queryset.order_by(f"-{at}", "-id")
        if position is not None:
            when, pk = position
            if backwards:
                after = Q(**{f"{at}__gt": when}) | Q(**{at: when, "id__gt": pk})
                rows = rows.filter(after).order_by(at, "id")
            else:
                rows = rows.filter(Q(**{f"{at}__lt": when}) | Q(**{at: when, "id__lt": pk}))
        page = list(rows[: size + 1])
        more = len(page) > size
        page = page[:size]
        if backwards:
            page.reverse()
        self.page = page
        self.has_next = bool(page) and (backwards or more)
        self.has_previous = bool(page) and (more if backwards else position is not None)
        return page

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self._link(False), "previous": self._link(True), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {**link, "example": "http://api.example.org/accounts/?cursor=bjoxMjM"},
                "previous": {**link, "example": "http://api.example.org/accounts/?cursor=cDoxMjM"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "From a page's `next` or `previous` link; absent for the newest.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most "
                f"{self.max_page_size}).",
                "schema": {"type": "integer"},
            },
        ]

    def _page_size(self, request: Request) -> int:
        try:
            asked = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return self.page_size
        return min(asked, self.max_page_size) if asked > 0 else self.page_size

    def _decode(self, raw: str | None) -> tuple[bool, tuple[datetime, int] | None]:
        if raw is None:
            return False, None
        try:
            padded = raw + "=" * (-len(raw) % 4)
            direction, when, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if direction not in {"n", "p"} or not isinstance(pk, int):
                raise ValueError(direction)
            moment = datetime.fromisoformat(when)
            if moment.tzinfo is None:
                raise ValueError(when)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            message = "Not a cursor from a page's next or previous link."
            raise ValidationError({self.cursor_query_param: [message]}) from None
        return direction == "p", (moment, pk)

    def _link(self, backwards: bool) -> str | None:
        if not (self.has_previous if backwards else self.has_next):
            return None
        row: Model = self.page[0] if backwards else self.page[-1]
        when = getattr(row, self.time_field).isoformat()
        payload = json.dumps(["p" if backwards else "n", when, row.pk]).encode()
        cursor = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)
