"""Page-numbered lists count their rows up to a bound, and page on past it (issue #12).

The response keeps the shape the app codes against (count, next, previous, results); `count`
stops at COUNT_BOUND so that it never reads a patient's whole history, and `next` comes from
the page itself (one row read beyond it), so it stays right beyond the bound.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.alerts.models import Notification
from backend.core.pagination import COUNT_BOUND
from tests.conftest import World

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/notifications/"


def _inbox(world: World, n: int) -> list[int]:
    """n notifications in world.patient's inbox; their ids newest first (the list's order)."""
    made = Notification.objects.bulk_create(
        Notification(
            recipient=world.patient.user,
            patient=world.patient,
            kind="reminder",
            title="Session today",
            body="Time for your exercises.",
            subject_type="week",
            subject_id=i,
            dedup_key=f"test:inbox:{i}",
        )
        for i in range(n)
    )
    return list(
        Notification.objects.filter(pk__in=[m.pk for m in made])
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )


def _walk(client: Any, url: str) -> tuple[list[int], list[dict[str, Any]]]:
    """Every row, following `next` from the first page; and each page's body."""
    rows: list[int] = []
    pages = []
    while url:
        body = client.get(url).json()
        pages.append(body)
        rows += [row["id"] for row in body["results"]]
        url = body["next"]
    return rows, pages


def test_a_list_longer_than_the_bound_counts_the_bound_and_pages_to_its_end(world, client_for):
    # Given an inbox of 50 more notifications than the bound
    ids = _inbox(world, COUNT_BOUND + 50)
    client = client_for(world.patient.user)

    # When the app walks it by `next`, 200 a page
    rows, pages = _walk(client, f"{INBOX}?page_size=200")

    # Then every page says the bound, and the pages hold every row once, in order
    assert {page["count"] for page in pages} == {COUNT_BOUND}
    assert rows == ids
    assert len(pages) == 6
    assert len(pages[-1]["results"]) == 50
    assert pages[-1]["next"] is None
    assert pages[-1]["previous"].endswith("page=5&page_size=200")
    # and a page past the end, or the unknown last one, is not found
    assert client.get(INBOX, {"page_size": 200, "page": 7}).status_code == 404
    last = client.get(INBOX, {"page_size": 200, "page": "last"})
    assert last.status_code == 404
    assert "follow `next`" in last.json()["detail"]


def test_a_list_of_exactly_the_bound_is_counted_exactly(world, client_for):
    ids = _inbox(world, COUNT_BOUND)
    client = client_for(world.patient.user)

    rows, pages = _walk(client, f"{INBOX}?page_size=200")

    assert rows == ids
    assert [p["count"] for p in pages] == [COUNT_BOUND] * 5
    assert pages[-1]["next"] is None
    last = client.get(INBOX, {"page_size": 200, "page": "last"}).json()
    assert [row["id"] for row in last["results"]] == ids[800:]
    assert client.get(INBOX, {"page_size": 200, "page": 6}).status_code == 404


def test_a_short_list_counts_and_pages_as_before(world, client_for):
    ids = _inbox(world, 30)
    client = client_for(world.patient.user)

    first = client.get(INBOX, {"page_size": 20}).json()
    last = client.get(INBOX, {"page_size": 20, "page": "last"}).json()

    assert first["count"] == 30
    assert first["previous"] is None
    assert first["next"].endswith("page=2&page_size=20")
    assert [row["id"] for row in last["results"]] == ids[20:]
    assert last["next"] is None
    assert client.get(INBOX, {"page_size": 20, "page": 3}).status_code == 404
    assert client.get(INBOX, {"page": 0}).status_code == 404
    assert client.get(INBOX, {"page": "x"}).status_code == 404
    assert client.get(INBOX).json()["count"] == 30


def test_the_count_reads_at_most_one_row_past_the_bound(world, client_for):
    # Given a short inbox (the query is the same whatever the inbox holds)
    _inbox(world, 3)

    # When a page is listed
    with CaptureQueriesContext(connection) as captured:
        client_for(world.patient.user).get(INBOX)

    # Then its count is over a LIMITed subquery with no ORDER BY
    (count,) = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert f"LIMIT {COUNT_BOUND + 1}" in count, count
    assert "ORDER BY" not in count, count


def test_the_published_schema_says_the_count_is_bounded() -> None:
    schema = yaml.safe_load((Path(__file__).parents[2] / "openapi.yaml").read_text())
    pages = {
        name: component
        for name, component in schema["components"]["schemas"].items()
        if name.startswith("Paginated") and "count" in component["properties"]
    }
    assert "PaginatedSessionOutputList" in pages
    for component in pages.values():
        count = component["properties"]["count"]
        assert count["maximum"] == COUNT_BOUND
        assert f"counted up to {COUNT_BOUND:,}" in count["description"]
