"""Today: the open alerts of my patients, most urgent and oldest first, with what fired them
and the buttons to acknowledge and resolve; and the header's count of open emergencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from backend.accounts.models import User
from backend.accounts.selectors import patients_visible_to
from backend.alerts.models import Alert, AlertStatus, Urgency
from backend.alerts.rules import RULES
from backend.alerts.selectors import alerts_visible_to
from backend.alerts.services import alerting
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.console.access import console_view
from backend.console.views.inbox_evidence import (
    EvidenceRow,
    evidence_rows,
    evidence_series,
    sparkline_svg,
)
from backend.console.views.inbox_forms import InboxFilterForm, ResolveForm

PAGE_SIZE = 25


def _viewer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  # console_view lets only signed-in users in
    return user


def open_alerts_of(viewer: User) -> QuerySet[Alert]:
    """The alerts not yet resolved about the viewer's patients, in triage order: emergencies
    first, and within an urgency the oldest first (it has waited longest)."""
    return (
        alerts_visible_to(viewer)
        .exclude(status=AlertStatus.RESOLVED)
        .select_related("patient__user")
        .order_by("urgency_rank", "created_at", "id")
    )


def patient_url(patient_id: int) -> str:
    try:
        return reverse("console:patient", args=[patient_id])
    except NoReverseMatch:  # the patient page is built on another branch
        return f"/console/patients/{patient_id}/"


@dataclass(frozen=True)
class AlertCard:
    alert: Alert
    title: str
    evidence: list[EvidenceRow]
    sparkline: SafeString | None
    patient_url: str
    resolve_form: ResolveForm


def _card(alert: Alert, resolve_form: ResolveForm | None = None) -> AlertCard:
    rule = RULES.get(alert.rule_id)
    zone = ZoneInfo(alert.patient.timezone)
    return AlertCard(
        alert=alert,
        title=rule.title if rule else alert.rule_id,
        evidence=evidence_rows(alert.rule_id, alert.evidence, zone),
        sparkline=sparkline_svg(evidence_series(alert.evidence)),
        patient_url=patient_url(alert.patient_id),
        resolve_form=resolve_form or ResolveForm(auto_id=f"id_alert_{alert.pk}_%s"),
    )


def _page_links(page: Page[Alert], query: dict[str, Any]) -> dict[str, str | None]:
    def link(number: int) -> str:
        return "?" + urlencode({**query, "page": number})

    return {
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
        "next": link(page.next_page_number()) if page.has_next() else None,
    }


@require_GET
@console_view
def home(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    patients = list(patients_visible_to(viewer).select_related("user"))
    filters = InboxFilterForm(request.GET or None, patients=patients)
    alerts = open_alerts_of(viewer).filter(**filters.filters())
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    # Reading the inbox is reading these alerts, as the API's alert list records it.
    record_access(request, Action.READ, Resource.ALERT, shown)  # type: ignore[arg-type]  # reads only .user and .META
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "console/inbox/today.html",
        {
            "nav": "today",
            "filters": filters,
            "cards": [_card(alert) for alert in shown],
            "page": page,
            "page_links": _page_links(page, query),
            "filtered": bool(filters.filters()),
            "here": request.get_full_path(),
        },
        status=400 if filters.errors else 200,
    )


@require_GET
@console_view
def emergency_count(request: HttpRequest) -> HttpResponse:
    """The header's badge (polled every 30 s by htmx): open emergencies about my patients."""
    count = (
        alerts_visible_to(_viewer(request))
        .filter(urgency=Urgency.EMERGENCY)
        .exclude(status=AlertStatus.RESOLVED)
        .count()
    )
    return render(request, "console/inbox/_emergency_count.html", {"emergencies": count})


def _back(request: HttpRequest) -> str:
    wanted = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("console:home")


def _answer(
    request: HttpRequest, alert: Alert, done: str, form: ResolveForm | None = None
) -> HttpResponse:
    """htmx swaps the card in place; without JS the page comes back, with a message."""
    status = 400 if form is not None and form.errors else 200
    if getattr(request, "htmx", False) or status == 400:
        alert = alerts_visible_to(_viewer(request)).select_related("patient__user").get(pk=alert.pk)
        template = (
            "console/inbox/_alert.html"
            if getattr(request, "htmx", False)
            else "console/inbox/alert_page.html"
        )
        return render(
            request,
            template,
            {"card": _card(alert, form), "here": _back(request), "done": done, "nav": "today"},
            status=status,
        )
    messages.success(request, done)
    return HttpResponseRedirect(_back(request))


@console_view
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    viewer = _viewer(request)
    alert = get_object_or_404(alerts_visible_to(viewer), pk=alert_id)
    with transaction.atomic():  # the acknowledgement and its audit event commit together
        alert = alerting.alert_acknowledge(alert=alert, by=viewer)
        record_access(request, Action.ACKNOWLEDGE, Resource.ALERT, [alert])  # type: ignore[arg-type]  # as above
    return _answer(request, alert, f"Acknowledged: {alert.reason}")


@console_view
@require_POST
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    viewer = _viewer(request)
    alert = get_object_or_404(alerts_visible_to(viewer), pk=alert_id)
    form = ResolveForm(request.POST, auto_id=f"id_alert_{alert.pk}_%s")
    if not form.is_valid():
        return _answer(request, alert, "", form)
    with transaction.atomic():
        alert = alerting.alert_resolve(alert=alert, by=viewer, note=form.cleaned_data["note"])
        record_access(request, Action.RESOLVE, Resource.ALERT, [alert])  # type: ignore[arg-type]  # as above
    return _answer(request, alert, f"Resolved: {alert.reason}")
