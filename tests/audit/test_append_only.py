"""An audit event, once written, can be neither changed nor deleted: not through the ORM, not
in the admin (by anyone, platform superusers included), not through the API, and on
PostgreSQL not even with SQL that bypasses the ORM."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from backend.audit.models import AccessEvent, AppendOnlyError
from tests.builders import access_event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(world) -> AccessEvent:
    return access_event(world.physio, world.patient, request_id="r-1", ip="127.0.0.1")


def _unchanged(event: AccessEvent) -> bool:
    stored = AccessEvent.objects.filter(pk=event.pk).values("action", "resource_id").first()
    return stored == {"action": "read", "resource_id": event.resource_id}


# --- ORM ------------------------------------------------------------------------------------


def test_a_stored_event_cannot_be_saved_again(event):
    event.action = "delete"

    with pytest.raises(AppendOnlyError):
        event.save()

    event.action = "read"
    assert _unchanged(event)


def test_a_stored_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()

    assert _unchanged(event)


@pytest.mark.parametrize(
    "change",
    [
        lambda qs: qs.update(action="delete"),
        lambda qs: qs.delete(),
        lambda qs: qs.bulk_update(list(qs), ["action"]),
        lambda qs: AccessEvent.objects.filter(pk__in=qs).update(resource_id=1),
    ],
    ids=["update", "delete", "bulk_update", "filtered_update"],
)
def test_bulk_changes_are_refused(event, change):
    with pytest.raises(AppendOnlyError):
        change(AccessEvent.objects.all())

    assert _unchanged(event)


# --- PostgreSQL: the database refuses whoever asks -------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_accessevent SET action = 'delete' WHERE id = %s",
        "DELETE FROM audit_accessevent WHERE id = %s",
    ],
    ids=["UPDATE", "DELETE"],
)
def test_the_database_refuses_sql_that_bypasses_the_orm(event, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])

    assert _unchanged(event)


@pytest.mark.postgres
def test_the_database_still_accepts_new_events(event):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accessevent (occurred_at, actor_id, actor_role, action, "
            "resource_type, request_id) VALUES (now(), %s, '', 'read', 'patient', '')",
            [event.actor_id],
        )

    assert AccessEvent.objects.count() == 2


# --- Admin ----------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    client.force_login(
        UserFactory.create(role="", organisation=None, is_staff=True, is_superuser=True)
    )
    return client


@pytest.fixture
def org_admin_client(world) -> Client:
    client = Client()
    client.force_login(world.org_admin)
    return client


@pytest.mark.parametrize("who", ["superuser_client", "org_admin_client"])
def test_the_admin_shows_events_but_cannot_add_change_or_delete_them(request, event, who):
    client = request.getfixturevalue(who)
    base = "/admin/audit/accessevent/"

    listing = client.get(base)
    add = client.post(f"{base}add/", {"action": "read"})
    change = client.post(f"{base}{event.pk}/change/", {"action": "delete"})
    delete = client.post(f"{base}{event.pk}/delete/", {"post": "yes"})
    bulk_delete = client.post(
        base, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )

    assert listing.status_code == 200
    assert f"{base}{event.pk}/change/" in listing.content.decode()
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert bulk_delete.status_code in {200, 302}  # the action does not exist: nothing happens
    assert _unchanged(event)


def test_an_org_admin_sees_only_their_organisations_events_in_the_admin(
    world, event, org_admin_client
):
    foreign = access_event(world.other_org_physio, world.foreign_patient)

    page = org_admin_client.get("/admin/audit/accessevent/").content.decode()
    opened = org_admin_client.get(f"/admin/audit/accessevent/{foreign.pk}/change/")

    assert f"/admin/audit/accessevent/{event.pk}/change/" in page
    assert f"/admin/audit/accessevent/{foreign.pk}/change/" not in page
    assert opened.status_code in {302, 403, 404}


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_audit_api_offers_no_way_to_write(world, event, client_for, method):
    client = client_for(world.org_admin)

    on_list = getattr(client, method)("/api/v1/audit/", {"action": "delete"}, format="json")
    on_item = getattr(client, method)(f"/api/v1/audit/{event.pk}/", {}, format="json")

    assert on_list.status_code == 405
    assert on_item.status_code == 404
    assert _unchanged(event)
