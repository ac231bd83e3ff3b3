"""The shape of a catalogue entry (a rule and its parameters) and the validation of a
clinician's per-patient settings against it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from backend.alerts.models import URGENCY_RANK, Urgency


class Status:
    """How DOMAIN.md marks a rule's basis."""

    SRC = "SRC"  # a published source says it
    DEFAULT = "DEFAULT"  # our own default, not a published rule
    UNVERIFIED = "UNVERIFIED"  # recalled from the literature, check the primary paper

    ALL = (SRC, DEFAULT, UNVERIFIED)


class Audience:
    """Who a rule tells (DOMAIN.md 7, unless a rule says otherwise)."""

    TEAM = "team"  # every care-team member
    PHYSIO = "physio"
    PHYSIO_AND_NURSE = "physio_and_nurse"
    PATIENT = "patient"  # the patient (and their linked caregivers)

    ALL = (TEAM, PHYSIO, PHYSIO_AND_NURSE, PATIENT)


class Kind:
    """What a rule produces when it fires."""

    ALERT = "alert"  # an alert for the care team (the only kind with alert rows)
    ADVICE = "advice"  # a message to the patient about their week
    REMINDER = "reminder"  # a reminder to the patient
    PROPOSAL = "proposal"  # a proposal for the physiotherapist to accept
    SUPPRESSION = "suppression"  # silences other rules

    ALL = (ALERT, ADVICE, REMINDER, PROPOSAL, SUPPRESSION)


class ParamType:
    INTEGER = "integer"
    NUMBER = "number"
    TIME = "time"  # "HH:MM", local to the patient
    INTEGER_LIST = "integer_list"  # distinct integers, each within minimum..maximum

    ALL = (INTEGER, NUMBER, TIME, INTEGER_LIST)


ENABLED = "enabled"  # the switch: not a parameter, but a setting of rules that may be off
URGENCY = "urgency"  # kept from older overrides (admin); never set through the API
TIME_FORMAT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    unit: str
    description: str
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None  # values must be a multiple of it (CHAQ moves in 0.125)
    nullable: bool = False  # null: "not set" (the rule stays silent)

    def errors(self, value: Any) -> list[str]:
        """Why `value` is not allowed (empty when it is)."""
        if value is None:
            return [] if self.nullable else ["May not be null."]
        if self.type == ParamType.TIME:
            if not isinstance(value, str) or not TIME_FORMAT.match(value):
                return ["Must be a time as HH:MM (24 h)."]
            return []
        if self.type == ParamType.INTEGER_LIST:
            if not isinstance(value, list) or not all(_is_int(v) for v in value):
                return ["Must be a list of integers."]
            if len(set(value)) != len(value):
                return ["Must not repeat a value."]
            return [message for v in value for message in self._range_errors(v)][:1]
        if self.type == ParamType.INTEGER and not _is_int(value):
            return ["Must be an integer."]
        if self.type == ParamType.NUMBER and not _is_number(value):
            return ["Must be a number."]
        found = self._range_errors(value)
        if not found and self.step and not _multiple_of(value, self.step):
            found = [f"Must be a multiple of {_num(self.step)}."]
        return found

    def _range_errors(self, value: float) -> list[str]:
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            return [f"Must be between {_num(low)} and {_num(high)}."]
        return []


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)  # a huge int overflows a float


def _multiple_of(value: float, step: float) -> bool:
    ratio = value / step
    return math.isclose(ratio, round(ratio), abs_tol=1e-9)


def _num(value: float | None) -> str:
    if value is None:
        return "any"
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Rule:
    """One entry of the catalogue. `safety_critical` rules can never be switched off (DOMAIN.md
    7); `may_disable` says whether a clinician may switch the rule off for a patient (only
    where the code that runs the rule honours the switch)."""

    id: str
    version: int
    title: str
    description: str  # one line, plain words
    source: str  # the citation of DOMAIN.md
    status: str  # Status.*
    urgency: str  # Urgency.*; reminders and proposals are "info"
    audience: tuple[str, ...]  # Audience.*, empty when the rule tells nobody (S)
    parameters: tuple[Param, ...] = ()
    may_disable: bool = False
    safety_critical: bool = False
    implemented_in: tuple[str, ...] = ()  # modules that run it (docs and the consistency test)
    kind: str = Kind.ALERT
    defaults: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = [
            *([] if self.status in Status.ALL else ["status"]),
            *([] if self.kind in Kind.ALL else ["kind"]),
            *([] if self.urgency in Urgency.values else ["urgency"]),
            *([] if set(self.audience) <= set(Audience.ALL) else ["audience"]),
            *(
                ["safety-critical rules cannot be switched off"]
                if self.safety_critical and self.may_disable
                else []
            ),
            *(f"default of {p.name}" for p in self.parameters if p.errors(p.default)),
        ]
        if problems:
            raise ValueError(f"rule {self.id}: {', '.join(problems)}")
        object.__setattr__(self, "defaults", {p.name: p.default for p in self.parameters})

    @property
    def configurable(self) -> bool:
        """Has something a clinician may change per patient (thresholds or the switch)."""
        return bool(self.parameters) or self.may_disable

    def param(self, name: str) -> Param | None:
        return next((p for p in self.parameters if p.name == name), None)

    def setting_names(self) -> list[str]:
        return [p.name for p in self.parameters] + ([ENABLED] if self.may_disable else [])

    def urgency_allowed(self, urgency: Any) -> bool:
        """An override's urgency applies unless it is not an urgency at all or would lower a
        safety-critical rule."""
        if urgency not in Urgency.values:
            return False
        if self.safety_critical:
            return URGENCY_RANK[Urgency(urgency)] <= URGENCY_RANK[Urgency(self.urgency)]
        return True

    def setting_errors(self, values: Any) -> dict[str, list[str]]:
        """What is wrong with the settings a clinician gives for this rule, by key."""
        if not isinstance(values, dict):
            return {"": ["Must be an object of setting names to values."]}
        errors: dict[str, list[str]] = {}
        allowed = self.setting_names()
        for key, value in values.items():
            if key == ENABLED:
                if self.safety_critical:
                    if value is not True:
                        errors[key] = [
                            f"{self.id} is safety-critical (DOMAIN.md 7): it can never be "
                            "switched off; its thresholds may be tuned within their range."
                        ]
                elif not self.may_disable:
                    errors[key] = [f"{self.id} cannot be switched off per patient."]
                elif not isinstance(value, bool):
                    errors[key] = ["Must be true or false."]
                continue
            param = self.param(key)
            if param is None:
                errors[key] = [
                    f"Not a setting of {self.id}; its settings: {', '.join(allowed) or 'none'}."
                ]
                continue
            if found := param.errors(value):
                errors[key] = found
        return errors
