"""`check-rules`, `catalogue --json` and `assess --json`: the rules layer from the shell."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.errors import InputError, RuleDataError
from bot.rules.resolve import Unresolved, assess_request
from bot.rules.ruleset import Ruleset, load_ruleset
from bot.rules.views import assessment_json, entry_json

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("check-rules", help="validate rules/ and print counts per kind")
    p.add_argument("--rules", type=Path, help="rules folder (default: the shipped one)")
    p.set_defaults(func=check_rules)

    p = sub.add_parser("catalogue", help="print the catalogue")
    p.add_argument("--json", action="store_true", required=True, help="one JSON array")
    p.add_argument(
        "--date", type=date.fromisoformat, help="date for the tier values (default today)"
    )
    p.add_argument("--rules", type=Path)
    p.set_defaults(func=catalogue)

    p = sub.add_parser("assess", help="assess JSON lines from stdin, one result per line")
    p.add_argument("--json", action="store_true", required=True)
    p.add_argument("--rules", type=Path)
    p.set_defaults(func=assess)


def load_or_report(folder: Path | None) -> Ruleset | None:
    """The ruleset, or None after printing the file and key of what is wrong."""
    try:
        return load_ruleset(folder)
    except RuleDataError as exc:
        print(f"rules error: {exc}", file=sys.stderr)
        return None


def check_rules(args: argparse.Namespace) -> int:
    rs = load_or_report(args.rules)
    if rs is None:
        return 1
    print(f"rules {rs.version} in {rs.folder}: OK")
    for kind, count in rs.counts().items():
        print(f"  {kind:22} {count}")
    return 0


def catalogue(args: argparse.Namespace) -> int:
    rs = load_or_report(args.rules)
    if rs is None:
        return 1
    on = args.date or date.today()
    json.dump(
        [entry_json(rs, e, on) for e in rs.catalogue.entries],
        sys.stdout,
        ensure_ascii=False,
        indent=1,
    )
    print()
    return 0


def make_matcher(rs: Ruleset) -> Any:
    from bot.rules.matcher import Matcher

    return Matcher(rs)


def assess(args: argparse.Namespace) -> int:
    rs = load_or_report(args.rules)
    if rs is None:
        return 1
    matcher = make_matcher(rs)
    failed = False
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        out: dict[str, Any]
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise InputError("expected one JSON object per line")
            out = assessment_json(rs, assess_request(rs, matcher, data, date.today()))
        except json.JSONDecodeError as exc:
            out = {"error": f"line {number}: not JSON: {exc.msg}", "line": number}
        except InputError as exc:
            out = {"error": f"line {number}: {exc}", "line": number}
        except Unresolved as exc:
            out = {
                "error": exc.message,
                "line": number,
                "certificate": data.get("certificate"),
                "candidates": exc.candidates,
            }
        if "error" in out:
            failed = True
            log.warning("assess line %d failed: %s", number, out["error"])
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if failed else 0
