"""docs/rules.md, written from the catalogue (`make rules-doc`; `make rules-doc-check` fails
when the committed file differs)."""

from __future__ import annotations

from typing import Any

from backend.alerts.rules.catalogue import RULES_IN_ORDER
from backend.alerts.rules.schema import Param, ParamType, Rule

HEADER = """\
# Rule catalogue

<!-- Generated from backend/alerts/rules/catalogue.py by `make rules-doc`: do not edit. -->

Every rule of shared/DOMAIN.md with the version its alerts record, its basis (**SRC** a
published source says it; **DEFAULT** our own default; **UNVERIFIED** recalled from the
literature, check the primary paper), urgency, who is told, and its parameters. Clinicians
change parameters per patient within the allowed range (`PUT /api/v1/patients/{id}/rule-settings/`);
**safety-critical** rules can never be switched off (DOMAIN.md 7). The same catalogue is served
by `GET /api/v1/rules/`.

| id | v | title | basis | kind | urgency | told | may be off |
|---|---|---|---|---|---|---|---|
"""


def _value(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _range(param: Param) -> str:
    if param.type == ParamType.TIME:
        return "00:00–23:59"
    low, high = _value(param.minimum), _value(param.maximum)
    if param.minimum is not None and float(param.minimum).is_integer():
        low = str(int(param.minimum))
    if param.maximum is not None and float(param.maximum).is_integer():
        high = str(int(param.maximum))
    text = f"{low}–{high}"
    if param.type == ParamType.INTEGER_LIST:
        text = f"each {text}"
    if param.step:
        text += f", steps of {param.step}"
    if param.nullable:
        text += ", or not set"
    return text


def _switch(rule: Rule) -> str:
    if rule.safety_critical:
        return "never (safety-critical)"
    return "yes" if rule.may_disable else "no"


def _section(rule: Rule) -> list[str]:
    lines = [
        f"## {rule.id} — {rule.title} (version {rule.version})",
        "",
        rule.description,
        "",
        f"- Basis: **{rule.status}** — {rule.source}",
        f"- Kind: {rule.kind}; urgency: {rule.urgency}; told: "
        f"{', '.join(rule.audience) or 'nobody (it silences other rules)'}",
        f"- May be switched off per patient: {_switch(rule)}",
        f"- Runs in: {', '.join(f'`{module}`' for module in rule.implemented_in)}",
    ]
    if rule.parameters:
        lines += [
            "",
            "| parameter | type | default | unit | allowed | meaning |",
            "|---|---|---|---|---|---|",
            *(
                f"| `{p.name}` | {p.type} | {_value(p.default)} | {p.unit} | {_range(p)} "
                f"| {p.description} |"
                for p in rule.parameters
            ),
        ]
    return [*lines, ""]


def rules_markdown() -> str:
    rows = [
        f"| [{r.id}](#{_anchor(r)}) | {r.version} | {r.title} | {r.status} | {r.kind} "
        f"| {r.urgency} | {', '.join(r.audience) or '—'} | {_switch(r)} |"
        for r in RULES_IN_ORDER
    ]
    body = [line for rule in RULES_IN_ORDER for line in _section(rule)]
    return HEADER + "\n".join(rows) + "\n\n" + "\n".join(body).rstrip("\n") + "\n"


def _anchor(rule: Rule) -> str:
    """GitHub's anchor of the rule's heading."""
    heading = f"{rule.id} — {rule.title} (version {rule.version})".lower()
    kept = "".join(c for c in heading if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")
