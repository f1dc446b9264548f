"""`match --json` and `eval FILE`: the certificate matcher from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.commands.rules import load_or_report, make_matcher
from bot.rules.views import match_json


def register(sub: Any) -> None:
    p = sub.add_parser("match", help="match free-text certificate names to catalogue entries")
    p.add_argument("--json", action="store_true", required=True, help="one JSON object per query")
    p.add_argument(
        "queries", nargs="*", metavar="QUERY", help="queries (default: one per line on stdin)"
    )
    p.add_argument("--rules", type=Path)
    p.set_defaults(func=match)

    p = sub.add_parser("eval", help="accuracy of the matcher on a labelled TSV file")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--rules", type=Path)
    p.add_argument("--failures", action="store_true", help="list every row that failed")
    p.set_defaults(func=evaluate)


def match(args: argparse.Namespace) -> int:
    rs = load_or_report(args.rules)
    if rs is None:
        return 1
    matcher = make_matcher(rs)
    today = date.today()
    queries = args.queries or (line.rstrip("\r\n") for line in sys.stdin)
    for query in queries:
        print(
            json.dumps(match_json(rs, matcher.match(query), today), ensure_ascii=False), flush=True
        )
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from bot.rules.evaluate import evaluate_file, format_report

    rs = load_or_report(args.rules)
    if rs is None:
        return 1
    if not args.file.is_file():
        print(f"eval: no such file: {args.file}", file=sys.stderr)
        return 2
    report = evaluate_file(args.file, make_matcher(rs), rs)
    print(format_report(report, failures=args.failures))
    return 0
