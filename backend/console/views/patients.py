"""The Patients list and the Patient page: the API's selectors, drawn for a person.

Every page is scoped by the API's own selectors (a patient the viewer may not see is a 404,
organisation admins without a care-team seat included) and records its reads in the audit
trail as the API's patient list and summary do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from backend.accounts.apis import PatientFilter
from backend.accounts.models import PatientProfile, User
from backend.accounts.selectors import patient_get, patients_visible_to
from backend.alerts.models import Alert, AlertStatus
from backend.alerts.selectors import (
    alerts_visible_to,
    patient_for_rule_settings,
    rule_settings_of,
    weekly_adherence_of,
)
from backend.alerts.services.rule_settings import rule_settings_update
from backend.audit.models import AccessEvent, Action, Resource
from backend.audit.services import record_access
from backend.console import charts
from backend.console.access import console_view
from backend.console.views import patients_data as data
from backend.console.views.patients_forms import (
    AssessmentForm,
    RuleSettingsForm,
    add_domain_errors,
)
from backend.core.errors import DomainError
from backend.exercise.measures import MEASURES
from backend.exercise.models import Programme, SessionLog
from backend.exercise.selectors import (
    assessment_trend,
    assessments_visible_to,
    patient_activity,
    session_trend,
    versions_of,
    weekly_counts,
)
from backend.exercise.services.assessments import assessment_record
from backend.symptoms.selectors import symptom_reports_visible_to

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
SORTS = {
    "name": "Name (A–Z)",
    "-name": "Name (Z–A)",
    "last_session": "Last session (newest first)",
    "alerts": "Open alerts (most first)",
}


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)  # console_view let only a signed-in user through


def _audit(
    request: HttpRequest, action: Action, resource: Resource, objects: Any, **kw: Any
) -> None:
    # record_access reads request.user and the client address (request.META), which a
    # Django request has as a DRF one does.
    record_access(cast(Any, request), action, resource, objects, **kw)


# --- Patients -----------------------------------------------------------------------------------


def _sorted(patients: QuerySet[PatientProfile], sort: str) -> QuerySet[PatientProfile]:
    if sort == "last_session":
        newest = SessionLog.objects.filter(
            patient_id=OuterRef("pk"), deleted_at__isnull=True
        ).order_by("-started_at")
        return patients.annotate(last_at=Subquery(newest.values("started_at")[:1])).order_by(
            F("last_at").desc(nulls_last=True), "user__last_name", "pk"
        )
    if sort == "alerts":
        open_alerts = (
            Alert.objects.filter(patient_id=OuterRef("pk"))
            .exclude(status=AlertStatus.RESOLVED)
            .order_by()
            .values("patient_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        return patients.annotate(open_n=Coalesce(Subquery(open_alerts), 0)).order_by(
            "-open_n", "user__last_name", "pk"
        )
    names = ("user__last_name", "user__first_name", "pk")
    if sort == "-name":
        return patients.order_by(*(f"-{name}" for name in names))
    return patients.order_by(*names)


@dataclass(frozen=True)
class PatientRow:
    patient: PatientProfile
    weeks_html: str  # data.weeks_html: the five weeks, marked safe
    activity: Any  # exercise.selectors.PatientActivity


@console_view
def patient_list(request: HttpRequest) -> HttpResponse:
    """My patients: adherence of this week and the four before it, last session and pain,
    open alerts and programme status; search, sort and pages in a fixed number of queries."""
    viewer = _viewer(request)
    query = request.GET.get("q", "").strip()
    sort = request.GET.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    try:
        per_page = int(request.GET.get("per_page", DEFAULT_PAGE_SIZE))
    except ValueError:
        per_page = DEFAULT_PAGE_SIZE
    per_page = per_page if per_page in PAGE_SIZES else DEFAULT_PAGE_SIZE
    patients = patients_visible_to(viewer).select_related("user")
    if query:  # the API's own search, so both find the same patients
        patients = PatientFilter({"q": query}, queryset=patients).qs
    page = Paginator(_sorted(patients, sort), per_page).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    _audit(request, Action.READ, Resource.PATIENT, shown)
    now = timezone.now()
    activity = patient_activity(shown, now=now, with_alerts=viewer.is_clinician)
    stored = data.recent_adherence(shown, now=now)
    rows = []
    for patient in shown:
        done = activity[patient.pk]
        version = done.active_programme.current_version if done.active_programme else None
        weeks = data.week_marks(
            patient,
            now=now,
            stored=stored.get(patient.pk, {}),
            this_week=done.sessions_this_week,
            target_min=version.sessions_per_week_min if version else None,
            target_max=version.sessions_per_week_max if version else None,
        )
        rows.append(PatientRow(patient=patient, weeks_html=data.weeks_html(weeks), activity=done))
    context = {
        "nav": "patients",
        "page": page,
        "rows": rows,
        "query": query,
        "sort": sort,
        "sorts": SORTS,
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        # console:patient is patients/<id>/: one reverse, not one per row of a 200-row page.
        "patients_url": reverse("console:patients"),
    }
    return render(request, "console/patients/list.html", context)


# --- Patient ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartView:
    chart_id: str
    title: str
    svg: str
    columns: list[str]  # the data table's headings
    rows: list[list[str]]  # …and its rows, the same values as the chart


@dataclass(frozen=True)
class VersionView:
    number: int
    created_at: Any
    author: str
    reason: str
    sessions: str
    items: list[Any]
    changes: list[str]


def _local(moment: Any, zone: ZoneInfo) -> str:
    return timezone.localtime(moment, zone).strftime("%d %b %Y %H:%M")


def _weekly_chart(weeks: list[Any], adherence: dict[Any, Any]) -> ChartView:
    bars, rows = [], []
    for index, week in enumerate(weeks):
        is_current = index == len(weeks) - 1
        mark = (
            data.current_week_mark(week.week_start, week.sessions, week.target_min, week.target_max)
            if is_current
            else data.past_week_mark(adherence.get(week.week_start), week.week_start)
        )
        label = week.week_start.strftime("%d %b")
        text = f"Week of {label}: {charts.number_text(week.sessions)} sessions ({mark.word})"
        bars.append(charts.Bar(label=label, value=week.sessions, tooltip=text, css=mark.css))
        rows.append([f"Week of {label}", charts.number_text(week.sessions), mark.word])
    target = weeks[-1] if weeks else None
    band = (
        (target.target_min, target.target_max)
        if target and target.target_min is not None and target.target_max is not None
        else None
    )
    band_label = f"Target {band[0]}–{band[1]} a week" if band else ""
    svg = charts.week_bars(
        chart_id="chart-weeks",
        title="Sessions a week, last 12 weeks",
        description=(
            f"Weighted sessions per local week against the target band ({band_label or 'none'}). "
            "Each bar is labelled with its count; the table below lists every week."
        ),
        y_label="Sessions",
        bars=bars,
        band=band,
        band_label=band_label,
    )
    return ChartView(
        "chart-weeks", "Sessions a week", svg, ["Week", "Sessions", "Against target"], rows
    )


def _pain_chart(sessions: list[SessionLog], zone: ZoneInfo, settings: list[Any]) -> ChartView:
    named = (("pain_before", "Pain before"), ("pain_after", "Pain after"), ("fatigue", "Fatigue"))
    lines = []
    for number, (field, name) in enumerate(named, start=1):
        points = [
            charts.Point(
                at=log.started_at,
                value=getattr(log, field),
                tooltip=f"{_local(log.started_at, zone)}: {name.lower()} {getattr(log, field)}",
            )
            for log in sessions
            if getattr(log, field) is not None
        ]
        lines.append(charts.Line(name=name, points=points, css=f"series-{number}"))
    thresholds = []
    pain_after = data.setting_value(settings, "SYM-2", "pain_after_at_least")
    if pain_after is not None:
        thresholds.append(charts.Threshold(pain_after, f"SYM-2: pain after ≥ {pain_after}"))
    svg = charts.line_chart(
        chart_id="chart-pain",
        title="Pain before and after sessions, and fatigue",
        description=(
            "Scores from 0 to 10 of each session of the last 12 weeks: pain before (blue, "
            "circles), pain after (orange), fatigue (green). The dashed line is the same-day "
            "symptom threshold of rule SYM-2."
        ),
        y_label="Score (0–10)",
        x_label="Session date",
        lines=lines,
        thresholds=thresholds,
        y_range=(0, 10),
    )
    rows = [
        [
            _local(log.started_at, zone),
            *("—" if getattr(log, f) is None else str(getattr(log, f)) for f, _ in named),
        ]
        for log in sessions
    ]
    return ChartView(
        "chart-pain", "Pain and fatigue", svg, ["Session", *(n for _, n in named)], rows
    )


def _measure_chart(
    spec: data.MeasureChart, series: list[Any], zone: ZoneInfo, settings: list[Any]
) -> ChartView:
    mine = [s for s in series if s.measure == spec.measure]
    measure = MEASURES[spec.measure]
    unit = mine[0].unit if mine else measure.unit
    lines: list[charts.Line] = []
    thresholds: list[charts.Threshold] = []
    rows: list[list[str]] = []
    for number, found in enumerate(mine, start=1):
        lines.append(
            charts.Line(
                name=f"{spec.title} ({found.setting})",
                css=f"series-{number}",
                points=[
                    charts.Point(
                        at=at,
                        value=value,
                        tooltip=(
                            f"{_local(at, zone)}, {found.setting}: "
                            f"{charts.number_text(value)} {unit}"
                        ),
                    )
                    for at, value in found.points
                ],
            )
        )
        rows.extend(
            [_local(at, zone), found.setting, charts.number_text(value)]
            for at, value in found.points
        )
        if spec.relative and found.baseline is not None:
            ratio = data.setting_value(settings, *spec.relative)
            if ratio is not None:
                worse = float(found.baseline) * (
                    1 - ratio if measure.higher_is_better else 1 + ratio
                )
                thresholds.append(
                    charts.Threshold(
                        round(worse, 2),
                        f"{spec.relative[0]} ({found.setting}): {round(ratio * 100)} % worse",
                    )
                )
        elif found.baseline is not None:
            thresholds.append(
                charts.Threshold(
                    found.baseline,
                    f"Baseline ({found.setting}): {charts.number_text(found.baseline)}",
                    css="baseline",
                )
            )
    if spec.absolute:
        rule_id, name, pattern = spec.absolute
        value = data.setting_value(settings, rule_id, name)
        if value is not None:
            thresholds.append(charts.Threshold(value, pattern.format(charts.number_text(value))))
    chart_id = f"chart-{spec.measure.lower()}"
    svg = charts.line_chart(
        chart_id=chart_id,
        title=f"{spec.title} over time",
        description=(
            f"Every {spec.title} result, one line per setting (home and clinic are never "
            f"compared), in {unit}. Dashed lines: "
            + ("; ".join(t.label for t in thresholds) or "no rule threshold")
            + "."
        ),
        y_label=unit,
        x_label="Date measured",
        lines=lines,
        thresholds=thresholds,
    )
    return ChartView(chart_id, spec.title, svg, ["Measured", "Setting", unit], rows)


def _versions(programme: Programme | None) -> list[VersionView]:
    """Every version of the programme in force, newest first, with what changed from the one
    before it."""
    if programme is None:
        return []
    versions = list(versions_of(programme).order_by("number"))
    names = {item.exercise_id: item.exercise.name for v in versions for item in v.items.all()}
    shown: list[VersionView] = []
    before: dict[str, Any] | None = None
    for version in versions:
        content = data.content_of(version)
        changes = data.version_changes(before, content, names) if before is not None else []
        shown.append(
            VersionView(
                number=version.number,
                created_at=version.created_at,
                author=version.author.display_name,
                reason=version.reason,
                sessions=f"{version.sessions_per_week_min}–{version.sessions_per_week_max}",
                items=[(item, data.dose_text(item)) for item in version.items.all()],
                changes=changes,
            )
        )
        before = content
    return shown[::-1]


def _recorded(viewer: User, patient: PatientProfile, assessment_id: str | None) -> str:
    """What the assessment form just recorded, said on the page it returns to."""
    if not assessment_id or not assessment_id.isdigit():
        return ""
    assessment = (
        assessments_visible_to(viewer).filter(patient=patient, pk=int(assessment_id)).first()
    )
    if assessment is None:
        return ""
    value = charts.number_text(assessment.value)
    return f"{assessment.measure} {value} {assessment.unit} recorded."


@console_view
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One patient: weekly sessions against the target, pain and fatigue, outcome measures
    with the rules' thresholds, symptom reports, programme history, alerts, caregivers."""
    viewer = _viewer(request)
    patient = patient_get(viewer=viewer, patient_id=patient_id)
    _audit(request, Action.READ, Resource.PATIENT_SUMMARY, [patient])
    zone = ZoneInfo(patient.timezone)
    now = timezone.now()
    activity = patient_activity([patient], now=now, with_alerts=viewer.is_clinician)[patient.pk]
    adherence = {row.week_start: row for row in weekly_adherence_of(patient)}
    settings = rule_settings_of(patient=patient)
    sessions = list(session_trend(patient, now=now))
    trend = assessment_trend(patient)
    alerts = list(
        alerts_visible_to(viewer)
        .filter(patient=patient)
        .exclude(status=AlertStatus.RESOLVED)
        .order_by("urgency_rank", "-created_at")
    )
    symptoms = list(
        symptom_reports_visible_to(viewer)
        .filter(patient=patient)
        .select_related("reported_by")
        .order_by("-reported_at", "-id")[:20]
    )
    context = {
        "nav": "patients",
        "patient": patient,
        "activity": activity,
        "weeks_chart": _weekly_chart(weekly_counts(patient, now=now), adherence),
        "pain_chart": _pain_chart(sessions, zone, settings),
        "measure_charts": [
            _measure_chart(spec, trend, zone, settings) for spec in data.MEASURE_CHARTS
        ],
        "alerts": alerts,
        "symptoms": [
            (report, data.tier_label(report), data.symptom_words(report)) for report in symptoms
        ],
        "versions": _versions(activity.active_programme),
        "care_team": list(patient.care_team.all()),
        "caregivers": [link for link in patient.caregiver_links.all() if link.ended_at is None],
        "recorded": _recorded(viewer, patient, request.GET.get("recorded")),
        "changed_rules": [(s, data.overridden_text(s)) for s in settings if s.overridden],
    }
    with timezone.override(zone):  # every time on the page in the patient's own zone
        return render(request, "console/patients/detail.html", context)


# --- Record an assessment -----------------------------------------------------------------------


@console_view
def assessment_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    viewer = _viewer(request)
    patient = patient_get(viewer=viewer, patient_id=patient_id)
    zone = ZoneInfo(patient.timezone)
    with timezone.override(zone):  # the time typed is the patient's local time
        form = AssessmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():  # the assessment and its audit event together
                    assessment = assessment_record(
                        by=viewer, patient=patient, data=form.service_data()
                    )
                    _audit(request, Action.CREATE, Resource.ASSESSMENT, [assessment])
            except DomainError as error:
                add_domain_errors(form, error)
            else:
                # Said on the patient's page (base.html's message list is not a list to
                # assistive technology while it has role="status").
                target = reverse("console:patient", kwargs={"patient_id": patient.pk})
                return redirect(f"{target}?recorded={assessment.pk}")
        else:
            _audit(request, Action.READ, Resource.PATIENT, [patient])
        status = 400 if request.method == "POST" else 200
        context = {"nav": "patients", "patient": patient, "form": form}
        return render(request, "console/patients/assessment_form.html", context, status=status)


# --- Rule settings ------------------------------------------------------------------------------


def _settings_history(patient: PatientProfile) -> list[AccessEvent]:
    """The audit trail of the patient's rule settings: each change with its old and new
    values, as rule_settings_update reported them (newest first)."""
    return list(
        AccessEvent.objects.filter(
            patient_id=patient.pk, resource_type=Resource.RULE_SETTINGS, action=Action.UPDATE
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:50]
    )


@console_view
def rule_settings(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's rule settings: view them, change them within the catalogue's ranges
    (safety-critical rules stay on), and the trail of earlier changes."""
    viewer = _viewer(request)
    patient = patient_for_rule_settings(viewer=viewer, patient_id=patient_id)
    form = RuleSettingsForm(request.POST or None, settings=rule_settings_of(patient=patient))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # the change and its audit event commit together
                changed = rule_settings_update(patient=patient, by=viewer, changes=form.changes())
                if changed.changes:
                    _audit(
                        request,
                        Action.UPDATE,
                        Resource.RULE_SETTINGS,
                        [patient],
                        changes=changed.changes,
                    )
        except DomainError as error:
            add_domain_errors(form, error, prefix="rules.")
        else:
            target = reverse("console:rule_settings", kwargs={"patient_id": patient.pk})
            return redirect(f"{target}?saved={1 if changed.changes else 0}")
    elif request.method != "POST":
        _audit(request, Action.READ, Resource.RULE_SETTINGS, [patient])
    context = {
        "nav": "patients",
        "patient": patient,
        "form": form,
        "history": _settings_history(patient),
        "saved": request.GET.get("saved") if request.method != "POST" else None,
    }
    status = 400 if request.method == "POST" else 200
    with timezone.override(ZoneInfo(patient.timezone)):
        return render(request, "console/patients/rule_settings.html", context, status=status)
