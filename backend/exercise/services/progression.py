"""Progression proposals (DOMAIN.md section 3, rule PROG-1): proposed, never applied."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from backend.accounts.models import CareTeamMembership, CareTeamRole, User
from backend.alerts.models import NotificationKind
from backend.alerts.rules import RULES
from backend.alerts.services.notifications import Message, notifications_send
from backend.core.errors import DomainError
from backend.exercise.codes import PROGRESSION_MAX_EFFORT, Completion, LoadUnit
from backend.exercise.models import (
    ProgrammeItem,
    ProgrammeStatus,
    ProgressionProposal,
    ProposalStatus,
    SessionItemResult,
    SessionLog,
)
from backend.exercise.services.common import PHYSIO_ONLY, require_care_team
from backend.exercise.services.programmes import programme_revise, version_content

RULE = {"id": "PROG-1", "version": RULES["PROG-1"].version}  # evidence of every proposal
SESSIONS_NEEDED = 2
MAX_PAIN_RISE = 2  # a rise of this many points or more disqualifies a session
LOAD_STEP = Decimal("0.075")  # +5-10 %: propose the middle, rounded to 0.5 kg
MAX_SETS = 5
RECENT_WINDOW = timedelta(days=42)


def _session_qualifies(session: SessionLog) -> tuple[bool, dict[str, Any]]:
    evidence: dict[str, Any] = {
        "session_id": session.pk,
        "started_at": session.started_at.isoformat(),
        "completion": session.completion,
        "effort": None if session.effort_value is None else str(session.effort_value),
        "effort_scale": session.effort_scale,
        "pain_before": session.pain_before,
        "pain_after": session.pain_after,
    }
    if session.symptoms or session.symptoms_reported:
        return False, evidence  # a log with any symptom never counts (DOMAIN.md 7)
    if session.completion != Completion.FULL or session.effort_value is None:
        return False, evidence
    if session.effort_value > PROGRESSION_MAX_EFFORT[session.effort_scale]:
        return False, evidence
    if session.pain_before is None or session.pain_after is None:
        return False, evidence
    return session.pain_after - session.pain_before < MAX_PAIN_RISE, evidence


def _result_done(result: SessionItemResult, item: ProgrammeItem) -> bool:
    if result.skipped:
        return False
    if item.sets and (result.sets_done or 0) < item.sets:
        return False
    return not (item.reps and (result.reps_done or 0) < item.reps)


def _proposed_change(item: ProgrammeItem) -> tuple[str, Decimal, Decimal] | None:
    if item.load_unit == LoadUnit.KG and item.load_value:
        step = max(
            Decimal("0.5"),
            (item.load_value * LOAD_STEP * 2).quantize(Decimal("1"), ROUND_HALF_UP) / 2,
        )
        return "load", item.load_value, item.load_value + step
    if item.sets and item.sets < MAX_SETS:
        return "sets", Decimal(item.sets), Decimal(item.sets + 1)
    if item.reps:
        return "reps", Decimal(item.reps), Decimal(item.reps + 2)
    return None


def progression_evaluate(
    *, session: SessionLog, items: dict[int, ProgrammeItem] | None = None
) -> list[ProgressionProposal]:
    """After a log: for each item of the programme's current version whose exercise was done
    fully in the patient's last two sessions, at low effort and without a pain rise, propose
    one change. Runs in the log's transaction; a second run proposes nothing new."""
    programme = session.programme
    if (
        programme.status != ProgrammeStatus.ACTIVE
        or session.version_id != programme.current_version_id
    ):
        return []
    # A log that does not qualify cannot complete a qualifying pair: if it is among an item's
    # two newest it spoils them, and if it is older the newest two were evaluated when they
    # arrived (unless the programme was paused then; any later qualifying log is evaluated in
    # full). Most logs end here, before any query.
    if not _session_qualifies(session)[0]:
        return []
    if items is None:
        items = {item.pk: item for item in session.version.items.all()}
    recent = (
        SessionItemResult.objects.filter(
            session__patient_id=session.patient_id,
            session__deleted_at__isnull=True,
            # Bounded, so a log costs the same after years of history; sessions older than
            # this are no evidence for progressing today anyway.
            session__started_at__gte=session.started_at - RECENT_WINDOW,
            item_id__in=items,
        )
        # Only each item's newest results: a fixed amount of work however many logs exist.
        .annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("item_id")],
                order_by=[F("session__started_at").desc(), F("session_id").desc()],
            )
        )
        .filter(newest__lte=SESSIONS_NEEDED)
        .select_related("session")
        .order_by("item_id", "-session__started_at")
    )
    already = set(
        ProgressionProposal.objects.filter(item_id__in=items).values_list("item_id", flat=True)
    )
    by_item: dict[int, list[SessionItemResult]] = defaultdict(list)
    for result in recent:
        if len(by_item[result.item_id]) < SESSIONS_NEEDED:
            by_item[result.item_id].append(result)
    proposals = []
    for item_id, results in by_item.items():
        item = items[item_id]
        change = _proposed_change(item)
        if item_id in already or len(results) < SESSIONS_NEEDED or change is None:
            continue
        checks = [(_session_qualifies(r.session), _result_done(r, item)) for r in results]
        if not all(ok and done for (ok, _), done in checks):
            continue
        kind, current, proposed = change
        proposals.append(
            ProgressionProposal(
                programme=programme,
                item=item,
                exercise_id=item.exercise_id,
                change=kind,
                current_value=current,
                proposed_value=proposed,
                evidence={
                    "rule": RULE,
                    "thresholds": {
                        "sessions": SESSIONS_NEEDED,
                        "max_effort": PROGRESSION_MAX_EFFORT,
                        "max_pain_rise_exclusive": MAX_PAIN_RISE,
                    },
                    "sessions": [evidence for (_, evidence), _ in checks],
                },
            )
        )
    # The unique constraint settles a race with a concurrent log of the same patient.
    ProgressionProposal.objects.bulk_create(proposals, ignore_conflicts=True)
    if proposals:
        _tell_physiotherapists(session, len(proposals))
    return proposals


def proposals_close_for_red_flag(*, patient_id: int) -> int:
    """A red flag closes every open proposal of the patient: progressing is off the table
    until a clinician has reviewed them."""
    return ProgressionProposal.objects.filter(
        programme__patient_id=patient_id, status=ProposalStatus.OPEN
    ).update(status=ProposalStatus.CLOSED, decided_at=timezone.now())


def _tell_physiotherapists(session: SessionLog, count: int) -> None:
    physios = [
        seat.member
        for seat in CareTeamMembership.objects.filter(
            patient_id=session.patient_id, role=CareTeamRole.PHYSIOTHERAPIST
        ).select_related("member")
    ]
    notifications_send(
        recipients=physios,
        patient=session.patient,
        message=Message(
            NotificationKind.PROGRESSION_PROPOSED,
            "Progression proposed",
            f"{count} exercise(s) can progress after the last two sessions; review to accept.",
            "programme",
            session.programme_id,
            f"progression:session:{session.pk}",
        ),
    )


@transaction.atomic
def proposal_accept(*, proposal: ProgressionProposal, by: User) -> ProgressionProposal:
    proposal = (
        ProgressionProposal.objects.select_for_update(of=("self",))
        .select_related("programme__current_version", "item")
        .get(pk=proposal.pk)
    )
    if proposal.status == ProposalStatus.ACCEPTED:
        return proposal
    if proposal.status != ProposalStatus.OPEN:
        raise DomainError("This proposal was dismissed.", code="conflict", status=409)
    programme = proposal.programme
    current = programme.current_version
    if current is None or proposal.item.version_id != current.pk:
        raise DomainError(
            "The programme changed since this was proposed; review the new version instead.",
            code="proposal_outdated",
            status=409,
        )
    content = version_content(current)
    field = {"load": "load_value", "sets": "sets", "reps": "reps"}[proposal.change]
    value: Any = proposal.proposed_value if field == "load_value" else int(proposal.proposed_value)
    content["items"][proposal.item.position - 1][field] = value
    revised = programme_revise(
        programme=programme,
        by=by,
        content=content,
        reason=(
            f"Progression accepted: {field} {proposal.current_value} → {proposal.proposed_value}"
        ),
    )
    proposal.status = ProposalStatus.ACCEPTED
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.resulting_version = revised.programme.current_version
    proposal.save(update_fields=["status", "decided_by", "decided_at", "resulting_version"])
    return proposal


@transaction.atomic
def proposal_dismiss(*, proposal: ProgressionProposal, by: User) -> ProgressionProposal:
    proposal = (
        ProgressionProposal.objects.select_for_update(of=("self",))
        .select_related("programme__patient__user")
        .get(pk=proposal.pk)
    )
    require_care_team(by, proposal.programme.patient, PHYSIO_ONLY, "dismiss a proposal")
    if proposal.status == ProposalStatus.DISMISSED:
        return proposal
    if proposal.status != ProposalStatus.OPEN:
        raise DomainError("This proposal was already accepted.", code="conflict", status=409)
    proposal.status = ProposalStatus.DISMISSED
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return proposal
