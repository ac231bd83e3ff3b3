"""Service accounts (issue #14): an organisation's sending system authenticates with a key
that can only import. Keys are hashed at rest and shown once; a revoked key is refused; the
account is refused everywhere else (API, console, admin), and audited like a person."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.demo import DEMO_LAB_KEY
from backend.accounts.models import PatientProfile, ServiceAccount, User
from backend.accounts.service_accounts import (
    IssuedKey,
    key_hash,
    service_account_create,
    service_account_revoke,
)
from backend.audit.models import AccessEvent
from backend.core.errors import DomainError
from backend.exercise.models import Assessment
from tests.conftest import World
from tests.fhir.importing import (
    BUNDLE_URL,
    OBSERVATION_URL,
    egfr,
    frozen_now,
    lab,
    lab_client,
    outcome,
    post,
)
from tests.security.test_route_matrix import AUTH, MATRIX, ROUTES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]
__all__ = ["frozen_now", "lab", "lab_client"]  # fixtures

# /fhir/Observation is also the people's search (GET): a key is refused there.
IMPORT_CALLS = {("fhir-observation", "POST"), ("fhir-bundle-import", "POST")}


def _client(**credentials: str) -> APIClient:
    client = APIClient()
    client.credentials(**credentials)
    return client


# --- The key ----------------------------------------------------------------------------------


def test_the_key_is_shown_once_and_only_its_hash_is_stored(lab: IssuedKey) -> None:
    stored = ServiceAccount.objects.get()
    assert lab.key.startswith("ptsa_")
    assert len(lab.key) > 40
    assert stored.key_hash == key_hash(lab.key) != lab.key
    assert lab.key.startswith(stored.key_prefix)
    row = json.dumps(list(ServiceAccount.objects.values()), default=str)
    assert lab.key not in row


def test_the_backing_account_can_never_sign_in(lab: IssuedKey) -> None:
    user = lab.account.user
    assert (user.role, user.is_active, user.has_usable_password()) == ("service", False, False)


def test_a_revoked_key_is_refused_and_nothing_is_stored(
    world: World, lab: IssuedKey, lab_client: APIClient
) -> None:
    service_account_revoke(account=lab.account)

    response = post(lab_client, OBSERVATION_URL, egfr(world.patient.pk))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Not a valid service account key" in (outcome(response).issue[0].diagnostics or "")
    assert Assessment.objects.count() == 0
    assert AccessEvent.objects.count() == 0


@pytest.mark.parametrize("url", [OBSERVATION_URL, BUNDLE_URL])
@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer ptsa_not-a-key-anyone-was-given"},
        {"HTTP_X_API_KEY": "ptsa_not-a-key-anyone-was-given"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    ],
)
def test_no_key_or_a_wrong_key_is_refused(
    world: World, url: str, credentials: dict[str, str]
) -> None:
    response = post(_client(**credentials), url, egfr(world.patient.pk))

    assert response.status_code == 401
    outcome(response)
    assert Assessment.objects.count() == 0


def test_a_persons_token_is_refused_on_import_whatever_their_role(world: World) -> None:
    for person in (world.physio, world.org_admin, world.patient.user):
        token = RefreshToken.for_user(person).access_token
        client = _client(HTTP_AUTHORIZATION=f"Bearer {token}")

        response = post(client, OBSERVATION_URL, egfr(world.patient.pk))

        assert response.status_code == 401, person.role
    assert Assessment.objects.count() == 0


def test_only_the_organisations_admin_creates_its_service_accounts(world: World) -> None:
    for stranger in (world.physio, world.other_org_physio):
        with pytest.raises(DomainError):
            service_account_create(organisation=world.org, name="Lab", by=stranger)
    with pytest.raises(DomainError):
        service_account_create(organisation=world.other_org, name="Lab", by=world.org_admin)
    assert ServiceAccount.objects.count() == 0


# --- Refused everywhere else ------------------------------------------------------------------


def _public(name: str, method: str) -> bool:
    """Routes that anonymous callers may use: a key there grants nothing more."""
    row = MATRIX.get((name, method))
    return row is not None and row.expect[0] != AUTH


OTHER_ROUTES = [
    (name, method)
    for name, route in ROUTES.items()
    for method in route.methods
    if (name, method) not in IMPORT_CALLS and not _public(name, method)
]


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_API_KEY"])
def test_a_service_key_is_refused_on_every_other_route(
    world: World, lab: IssuedKey, header: str
) -> None:
    value = f"Bearer {lab.key}" if header == "HTTP_AUTHORIZATION" else lab.key
    client = _client(**{header: value})
    answers = {}
    for name, method in OTHER_ROUTES:
        kwargs = dict.fromkeys(ROUTES[name].params, 1)
        response = client.generic(method, reverse(name, kwargs=kwargs), "{}", "application/json")
        answers[(name, method)] = response.status_code

    assert OTHER_ROUTES
    assert {key: status for key, status in answers.items() if status != 401} == {}


def test_the_service_accounts_user_gets_no_api_token_that_works(
    world: World, lab: IssuedKey
) -> None:
    token = RefreshToken.for_user(lab.account.user).access_token
    client = _client(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get("/api/v1/me/").status_code == 401
    assert client.get("/api/v1/patients/").status_code == 401


def test_the_console_and_the_admin_refuse_the_service_account(world: World, lab: IssuedKey) -> None:
    user = lab.account.user
    browser = Client()
    assert not browser.login(username=user.username, password=lab.key)

    browser.force_login(user)  # even with a session somehow made for it

    console = browser.get(reverse("console:home"))
    admin = browser.get(reverse("admin:index"))
    assert console.status_code in {302, 403}
    assert console.status_code == 403 or reverse("console:login") in console["Location"]
    assert admin.status_code == 302
    assert reverse("admin:login") in admin["Location"]


# --- Created by the organisation admin: the Django admin and a command --------------------------


def _admin_browser(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_org_admin_adds_a_service_account_in_the_admin_and_sees_its_key_once(
    world: World,
) -> None:
    browser = _admin_browser(world.org_admin)

    response = browser.post(
        reverse("admin:accounts_serviceaccount_add"), {"name": "Ward EHR"}, follow=True
    )

    assert response.status_code == 200
    account = ServiceAccount.objects.get()
    assert (account.organisation, account.name, account.created_by) == (
        world.org,
        "Ward EHR",
        world.org_admin,
    )
    shown = [str(m) for m in response.context["messages"]]
    key = next(word for m in shown for word in m.split() if word.startswith("ptsa_"))
    assert key_hash(key) == account.key_hash
    again = browser.get(reverse("admin:accounts_serviceaccount_change", args=[account.pk]))
    assert key not in again.content.decode()
    event = AccessEvent.objects.get(action="create")
    assert (event.actor, event.resource_id) == (world.org_admin, account.pk)


def test_a_name_used_in_the_organisation_is_refused_in_the_admin(
    world: World, lab: IssuedKey
) -> None:
    browser = _admin_browser(world.org_admin)

    response = browser.post(reverse("admin:accounts_serviceaccount_add"), {"name": "City lab LIS"})

    assert response.status_code == 200  # the form again, with its error
    assert "already has a service account of that name" in response.content.decode()
    assert ServiceAccount.objects.count() == 1


def test_the_org_admin_revokes_a_key_in_the_admin(
    world: World, lab: IssuedKey, lab_client: APIClient
) -> None:
    browser = _admin_browser(world.org_admin)

    browser.post(
        reverse("admin:accounts_serviceaccount_changelist"),
        {"action": "revoke_keys", "_selected_action": [lab.account.pk]},
    )

    lab.account.refresh_from_db()
    assert lab.account.revoked_at is not None
    assert post(lab_client, OBSERVATION_URL, egfr(world.patient.pk)).status_code == 401
    event = AccessEvent.objects.get(action="update")
    assert (event.actor, event.resource_id, event.changes) == (
        world.org_admin,
        lab.account.pk,
        {"admin": "accounts.serviceaccount", "fields": ["revoked_at"]},
    )


def test_another_organisations_admin_never_sees_the_service_account(
    world: World, lab: IssuedKey
) -> None:
    other_admin = User.objects.create(
        username="other-admin", role="org_admin", organisation=world.other_org, is_staff=True
    )
    browser = _admin_browser(other_admin)

    listing = browser.get(reverse("admin:accounts_serviceaccount_changelist"))
    change = browser.get(reverse("admin:accounts_serviceaccount_change", args=[lab.account.pk]))

    assert "City lab" not in listing.content.decode()
    assert change.status_code == 302


def test_the_command_creates_an_account_and_prints_a_key_that_imports(
    world: World, capsys: Any
) -> None:
    call_command("service_account_create", organisation=world.org.slug, name="Night batch")
    key = capsys.readouterr().out.strip().splitlines()[-1]

    response = post(_client(HTTP_X_API_KEY=key), OBSERVATION_URL, egfr(world.patient.pk))

    assert response.status_code == 201
    assert Assessment.objects.get().source_account == ServiceAccount.objects.get()


def test_the_demo_lab_imports_for_the_demo_clinic(db: None, settings: Any) -> None:
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")  # twice: still one demo lab
    amelia = PatientProfile.objects.get(user__username="demo.amelia")
    before = Assessment.objects.count()

    response = post(
        _client(HTTP_AUTHORIZATION=f"Bearer {DEMO_LAB_KEY}"),
        OBSERVATION_URL,
        egfr(amelia.pk, 64, identifier="demo-egfr-1"),
    )

    assert response.status_code == 201, response.content
    assert ServiceAccount.objects.filter(name="Demo lab").count() == 1
    assert Assessment.objects.count() == before + 1
