from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import Model, Q, QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

COUNT_BOUND = 1_000


class BoundedPaginator(Paginator):
    """Django's paginator with a count that stops at COUNT_BOUND and pages that know whether
    another follows without the count: each page reads one row more than it shows."""

    bound = COUNT_BOUND

    @cached_property
    def _counted(self) -> int:
        """Rows up to the bound + 1, counted over a LIMITed subquery (no ORDER BY in it): at
        most bound + 1 index entries, however many rows the list holds."""
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return int(rows.order_by()[: self.bound + 1].count())
        return len(rows)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.bound)

    @property
    def capped(self) -> bool:
        """More rows than the bound: `count` is the bound, pages go on past it."""
        return self._counted > self.bound

    def validate_number(self, number: Any) -> int:
        if self.capped and str(number).isdigit() and int(number) > 0:
            return int(number)  # a page past the bound may exist: page() finds out
        return int(super().validate_number(number))

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:  # past the end of a list longer than the bound
            raise EmptyPage(self.error_messages["no_results"])
        return BoundedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class BoundedPage(Page):
    def __init__(self, object_list: Any, number: int, paginator: Paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 50 by default; clients may ask for up to 200, never more. The response is
    the one the mobile app codes against (`count`, `next`, `previous`, `results`), but
    `count` is bounded: the number of rows up to COUNT_BOUND (1,000), and COUNT_BOUND for any
    longer list.

    Why: an exact count reads every row the list holds. A patient's history only grows
    (sessions, assessments, symptom reports, notifications), so an exact count made each page
    of their list slower as the years went by (issue #12: a patient's session list lost 25 %
    of its throughput from 200 to 4,753 logs, a count and a sort over the whole history). A
    COUNT over a LIMITed subquery reads at most 1,001 index entries, whatever the history.

    Why 1,000: it is more than a patient makes of any of these rows in several years (2-3
    sessions a week), so the count the app shows stays exact in practice, and it keeps the
    bounded count well under the cost of the page itself (10,000 would read a 10,000-row
    history through to its end again). Why not a cursor (as the audit trail's list): the app
    pages by number and shows the count; the page query is an index range scan either way
    (the lists' indexes match their ORDER BY), and OFFSET costs only the rows skipped.

    `next` never depends on the count: each page reads page_size + 1 rows and links to the
    next page when that extra row exists, so paging goes on past the bound to the last row;
    a page past the end answers 404 as before. `?page=last` is the last page when the count
    is exact; past the bound there is no known last page (404: follow `next`)."""

    django_paginator_class = BoundedPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        page_number = request.query_params.get(self.page_query_param) or 1
        if page_number in self.last_page_strings:
            if paginator.capped:
                raise NotFound(
                    f"The list holds more than {COUNT_BOUND:,} rows and has no known last "
                    "page: follow `next`."
                )
            return paginator.num_pages
        return page_number

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count"] = {
            "type": "integer",
            "minimum": 0,
            "maximum": COUNT_BOUND,
            "example": 123,
            "description": f"Rows in the list, counted up to {COUNT_BOUND:,}: a longer list "
            f"says {COUNT_BOUND:,}. Paging does not stop there: follow `next` until it is null.",
        }
        return paginated


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
