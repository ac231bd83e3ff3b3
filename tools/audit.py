"""Known vulnerabilities in the pinned dependencies (requirements/constraints.txt).

pip-audit looks each pinned release up in PyPI's advisory data (the JSON API's
`vulnerabilities`). A package it cannot look up is "skipped", and pip-audit then still
prints "No known vulnerabilities found": that is not a pass. So this fails on any known
vulnerability and, unless --allow-unaudited is given, on any package left unaudited; with
the flag it names what was not audited and why, loudly, and passes.

    python -m tools.audit [--allow-unaudited] [--ignore-vuln ID ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

CONSTRAINTS = Path(__file__).resolve().parents[1] / "requirements" / "constraints.txt"


def verdict(report: dict[str, Any], *, allow_unaudited: bool) -> tuple[int, list[str]]:
    """Exit code and lines to print for pip-audit's JSON report."""
    packages = report.get("dependencies", [])
    vulnerable = [p for p in packages if p.get("vulns")]
    skipped = [p for p in packages if p.get("skip_reason")]
    lines = [
        f"{p['name']} {p.get('version', '?')}: {v['id']} "
        f"(fixed in {', '.join(v.get('fix_versions') or []) or 'no release yet'})"
        for p in vulnerable
        for v in p["vulns"]
    ]
    count = sum(len(p["vulns"]) for p in vulnerable)
    lines.append(
        f"pip-audit: {len(packages) - len(skipped)} of {len(packages)} pinned packages audited, "
        f"{count} known vulnerabilit{'y' if count == 1 else 'ies'}."
    )
    if vulnerable:
        return 1, lines
    if skipped:
        reasons = sorted({str(p["skip_reason"]).split(":")[0] for p in skipped})
        lines.append(f"Not audited ({len(skipped)}): {'; '.join(reasons)}.")
        lines.append(f"  e.g. {skipped[0]['skip_reason']}")
        if not allow_unaudited:
            return 1, lines
        lines.append(
            "WARNING: these packages were NOT checked for vulnerabilities (the advisory "
            "service could not be reached); run `make audit` where it can."
        )
    return 0, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-unaudited", action="store_true")
    parser.add_argument("--ignore-vuln", action="append", default=[], metavar="ID")
    args = parser.parse_args(argv)
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(CONSTRAINTS),
        "--no-deps",  # every package is pinned in the file: nothing to resolve or install
        "--disable-pip",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        *(f"--ignore-vuln={vuln}" for vuln in args.ignore_vuln),
    ]
    result = subprocess.run(  # noqa: S603  # our own interpreter and fixed arguments
        command, capture_output=True, text=True, timeout=900, check=False
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
        print("pip-audit gave no report (see above).", file=sys.stderr)
        return 2
    code, lines = verdict(report, allow_unaudited=args.allow_unaudited)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
