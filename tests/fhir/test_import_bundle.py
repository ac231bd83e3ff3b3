"""POST /fhir/Bundle (issue #14, import): a transaction of Observations is imported whole or
not at all; the answer is an R4B transaction-response Bundle, a refusal an OperationOutcome
naming the entry."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.audit.models import AccessEvent
from backend.exercise.models import Assessment
from tests.conftest import World
from tests.fhir.importing import (
    BUNDLE_URL,
    OBSERVATION_URL,
    egfr,
    expressions,
    frozen_now,
    lab,
    lab_client,
    measure,
    outcome,
    post,
    transaction,
    transaction_response,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]
__all__ = ["frozen_now", "lab", "lab_client"]  # fixtures


def test_a_transaction_imports_every_entry(world: World, lab_client: APIClient) -> None:
    body = transaction(
        egfr(world.patient.pk, 58, identifier="e-1"),
        egfr(world.patient.pk, 1200, code="2157-6", unit_code="U/L", identifier="ck-1"),
        measure(world.other_patient.pk, "STS30", 13, "{count}", identifier="s-1"),
    )

    response = post(lab_client, BUNDLE_URL, body)

    assert response.status_code == 200, response.content
    answer = transaction_response(response)
    stored = list(Assessment.objects.order_by("id"))
    assert [(a.patient_id, a.measure, a.value) for a in stored] == [
        (world.patient.pk, "EGFR", 58),
        (world.patient.pk, "CK", 1200),
        (world.other_patient.pk, "STS30", 13),
    ]
    assert [e["response"] for e in answer["entry"]] == [
        {"status": "201 Created", "location": f"Observation/assessment-{a.pk}"} for a in stored
    ]
    assert [e["resource"]["id"] for e in answer["entry"]] == [f"assessment-{a.pk}" for a in stored]


def test_a_resent_transaction_stores_nothing_new(world: World, lab_client: APIClient) -> None:
    body = transaction(
        egfr(world.patient.pk, 58, identifier="e-1"), egfr(world.patient.pk, 61, identifier="e-2")
    )
    post(lab_client, BUNDLE_URL, body)

    again = post(lab_client, BUNDLE_URL, body)

    assert again.status_code == 200
    assert [e["response"]["status"] for e in transaction_response(again)["entry"]] == [
        "200 OK",
        "200 OK",
    ]
    assert Assessment.objects.count() == 2


def test_an_entry_already_imported_alone_is_answered_200_within_the_transaction(
    world: World, lab_client: APIClient
) -> None:
    post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, 58, identifier="e-1"))
    body = transaction(
        egfr(world.patient.pk, 58, identifier="e-1"), egfr(world.patient.pk, 61, identifier="e-2")
    )

    response = post(lab_client, BUNDLE_URL, body)

    statuses = [e["response"]["status"] for e in transaction_response(response)["entry"]]
    assert statuses == ["200 OK", "201 Created"]
    assert Assessment.objects.count() == 2


def _bad_third(world: World, change: Any) -> dict[str, Any]:
    body = transaction(
        egfr(world.patient.pk, 58, identifier="e-1"),
        egfr(world.patient.pk, 61, identifier="e-2"),
        egfr(world.patient.pk, 60, identifier="e-3"),
    )
    change(body["entry"][2])
    return body


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        (
            lambda e: e["resource"]["code"]["coding"][0].update(code="2160-0"),
            422,
            "Bundle.entry[2].resource.code",
        ),
        (
            lambda e: e["resource"]["valueQuantity"].update(code="mg/dL"),
            422,
            "Bundle.entry[2].resource.valueQuantity",
        ),
        (
            lambda e: e["resource"]["valueQuantity"].update(value=260),
            422,
            "Bundle.entry[2].resource.valueQuantity.value",
        ),
        (lambda e: e["resource"].pop("status"), 400, "Bundle.entry[2].resource.status"),
        (lambda e: e["request"].update(method="PUT"), 422, "Bundle.entry[2].request"),
        (lambda e: e["resource"].update(resourceType="Patient"), 422, "Bundle.entry[2].resource"),
    ],
)
def test_one_bad_entry_refuses_the_whole_transaction_naming_it(
    world: World, lab_client: APIClient, change: Any, status: int, where: str
) -> None:
    response = post(lab_client, BUNDLE_URL, _bad_third(world, change))

    assert response.status_code == status, response.content
    parsed = outcome(response)
    assert where in expressions(parsed)
    assert "Bundle.entry[2]" in (parsed.issue[0].diagnostics or "")
    assert Assessment.objects.count() == 0
    assert AccessEvent.objects.count() == 0


def test_an_entry_for_another_organisations_patient_refuses_the_transaction(
    world: World, lab_client: APIClient
) -> None:
    body = transaction(
        egfr(world.patient.pk, 58, identifier="e-1"),
        egfr(world.foreign_patient.pk, 61, identifier="e-2"),
    )

    response = post(lab_client, BUNDLE_URL, body)

    assert response.status_code == 404
    assert expressions(outcome(response)) == ["Bundle.entry[1].resource.subject"]
    assert Assessment.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"resourceType": "Bundle", "type": "batch", "entry": []}, 422, "Bundle.type"),
        ({"resourceType": "Bundle", "type": "transaction", "entry": []}, 422, "Bundle.entry"),
        ({"resourceType": "Bundle", "type": "transaction"}, 422, "Bundle.entry"),
        ({"resourceType": "Bundle", "type": "transaction", "entry": "x"}, 422, "Bundle.entry"),
        ({"resourceType": "Bundle", "type": "transaction", "entry": [7]}, 400, "Bundle.entry[0]"),
        ({"resourceType": "Observation"}, 400, "Bundle"),
    ],
)
def test_a_bundle_that_is_no_transaction_of_observations_is_refused(
    world: World, lab_client: APIClient, body: dict[str, Any], status: int, where: str
) -> None:
    response = post(lab_client, BUNDLE_URL, body)

    assert response.status_code == status, response.content
    assert any(e.startswith(where) for e in expressions(outcome(response)))
    assert Assessment.objects.count() == 0


def test_a_transaction_is_audited_entry_by_entry(world: World, lab_client: APIClient) -> None:
    post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, 58, identifier="e-1"))
    body = transaction(
        egfr(world.patient.pk, 58, identifier="e-1"), egfr(world.patient.pk, 61, identifier="e-2")
    )

    post(lab_client, BUNDLE_URL, body)

    actions = list(AccessEvent.objects.order_by("id").values_list("action", "actor_role"))
    assert actions == [("create", "service"), ("create", "service"), ("read", "service")]


@pytest.mark.parametrize("entries", [1, 5])
def test_a_transactions_queries_grow_by_a_fixed_number_per_entry(
    world: World,
    lab_client: APIClient,
    django_assert_num_queries: Any,
    entries: int,
) -> None:
    body = transaction(
        *(egfr(world.patient.pk, 60 + i, identifier=f"e-{i}") for i in range(entries))
    )

    # The key, the transaction's savepoint and its release, one audit INSERT for all; then
    # per entry: its patient, its identifier, assessment_record's savepoint, the rule-check
    # request, the assessment, the release.
    with django_assert_num_queries(QUERIES_PER_TRANSACTION + QUERIES_PER_ENTRY * entries):
        response = post(lab_client, BUNDLE_URL, body)

    assert response.status_code == 200


QUERIES_PER_TRANSACTION = 4
QUERIES_PER_ENTRY = 6
