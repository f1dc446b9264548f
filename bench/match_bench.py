"""Matcher benchmark: latency, index build time and memory, accuracy, against a naive baseline.

Run from the repository root:  python bench/match_bench.py [--json] [--rounds N]

One run measures, on the shipped catalogue, the matcher and a naive baseline (rapidfuzz
`process.extractOne` over entry names alone, no normalisation, no aliases), side by side with
their ratios; then both again on a synthetic catalogue ten times larger (every entry repeated
with prefixes such as 上海/国家/企业), to show how the cost grows.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.rules.evaluate import evaluate_rows, read_tsv  # noqa: E402
from bot.rules.matcher import Candidate, Matcher  # noqa: E402
from bot.rules.model import Entry, Grade  # noqa: E402
from bot.rules.ruleset import Ruleset, load_ruleset  # noqa: E402

DATA = REPO / "tests" / "data"
LABELLED = ("match_cases.tsv", "match-dev.tsv")
# A prefix keeps the synthetic names plausible (same characters, same lengths ± 2) so that the
# fuzzy stages do as much work per name as on the real catalogue.
SYNTHETIC_PREFIXES = ("上海", "国家", "企业", "行业", "省级", "市级", "建筑", "信息", "集团")
BASELINE_MATCH = 85.0  # the same confident-match score the matcher uses


@dataclass(frozen=True)
class BaselineResult:
    outcome: str
    entry: Entry | None = None
    grade: Grade | None = None
    needs: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    query: str = ""


class Baseline:
    """What one would write first: extractOne over the printed names, raw text, WRatio."""

    def __init__(self, ruleset: Any) -> None:
        self.entries: tuple[Entry, ...] = tuple(ruleset.catalogue.entries)
        self.names = [e.name for e in self.entries]

    def match(self, text: str) -> BaselineResult:
        best = process.extractOne(text, self.names, scorer=fuzz.WRatio, processor=None)
        if best is None:
            return BaselineResult("none", query=text)
        _, score, index = best
        entry = self.entries[index]
        candidate = (Candidate(entry, round(score)),)
        if score >= BASELINE_MATCH:
            return BaselineResult("match", entry, entry.grade, (), candidate, text)
        return BaselineResult("none", candidates=candidate, query=text)


@dataclass
class Catalogue:
    entries: tuple[Entry, ...]


@dataclass
class ScaledRuleset:
    """The real ruleset with another catalogue: what the matcher reads is the same."""

    base: Ruleset
    catalogue: Catalogue
    folder: Path = field(init=False)

    def __post_init__(self) -> None:
        self.folder = self.base.folder

    @property
    def grades(self) -> Any:
        return self.base.grades

    def tier(self, entry: Entry, grade: Grade | None, on: Any) -> int | None:
        return self.base.tier(entry, grade, on)


def synthetic(rs: Ruleset, factor: int = 10) -> ScaledRuleset:
    entries = list(rs.catalogue.entries)
    for k, prefix in enumerate(SYNTHETIC_PREFIXES[: factor - 1]):
        for e in rs.catalogue.entries:
            entries.append(
                replace(
                    e,
                    id=f"{e.id}.s{k}"[:40]
                    if len(f"{e.id}.s{k}") <= 40
                    else f"syn.{k}.{abs(hash(e.id))}",
                    name=prefix + e.name,
                    aliases=tuple(prefix + a for a in e.aliases),
                    shared=tuple(prefix + s for s in e.shared),
                )
            )
    return ScaledRuleset(rs, Catalogue(tuple(entries)))


def _build(factory: Callable[[], Any]) -> tuple[Any, float, float]:
    """(object, seconds to build, MiB retained). The first build pays one-off costs (imports,
    pypinyin's dictionary), so time is the best of three later builds, and memory is traced
    on a build of its own (tracemalloc slows Python several times over)."""
    obj = factory()
    seconds = float("inf")
    for _ in range(3):
        gc.collect()
        start = time.perf_counter()
        obj = factory()
        seconds = min(seconds, time.perf_counter() - start)
    del obj
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    obj = factory()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return obj, seconds, retained / 2**20


def _latency(matcher: Any, queries: Sequence[str], rounds: int) -> dict[str, float]:
    """Microseconds. Every query is timed alone, `rounds` times over. The headline figures
    take each query's median over the rounds (its cost, free of a preemption on a busy
    machine); the raw p99 over every single timing is given too."""
    for q in queries:
        matcher.match(q)
    per_query: list[list[float]] = [[] for _ in queries]
    for _ in range(rounds):
        gc.collect()
        for i, q in enumerate(queries):
            start = time.perf_counter_ns()
            matcher.match(q)
            per_query[i].append((time.perf_counter_ns() - start) / 1000)
    typical = sorted(statistics.median(t) for t in per_query)
    raw = sorted(t for ts in per_query for t in ts)
    return {
        "latency_median_us": statistics.median(typical),
        "latency_p99_us": _p99(typical),
        "latency_max_us": typical[-1],
        "latency_p99_raw_us": _p99(raw),
    }


def _p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def measure(
    name: str, ruleset: Any, queries: Sequence[str], rounds: int, accuracy: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {"catalogue": name, "entries": len(ruleset.catalogue.entries)}
    out["names"] = sum(len(e.names) for e in ruleset.catalogue.entries)
    for label, factory in (
        ("matcher", lambda: Matcher(ruleset)),
        ("baseline", lambda: Baseline(ruleset)),
    ):
        obj, seconds, mib = _build(factory)
        row: dict[str, Any] = {"build_ms": seconds * 1000, "index_mib": mib}
        row.update(_latency(obj, queries, rounds))
        if accuracy:
            for tsv in LABELLED:
                rows = evaluate_rows(read_tsv(DATA / tsv), obj, ruleset)
                row[f"accuracy[{tsv}]"] = sum(r.correct for r in rows) / len(rows)
                row[f"confident_wrong[{tsv}]"] = sum(r.confident_wrong for r in rows)
                row[f"choose_share[{tsv}]"] = sum(r.outcome == "choose" for r in rows) / len(rows)
        out[label] = row
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 1 else f"{value:,.1f}"
    return str(value)


def table(results: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for res in results:
        lines.append(
            f"\n{res['catalogue']}: {res['entries']} entries, {res['names']} names and aliases"
        )
        lines.append(
            f"  {'measure':38s} {'matcher':>12s} {'baseline':>12s} {'matcher/baseline':>17s}"
        )
        for key in res["matcher"]:
            a, b = res["matcher"][key], res["baseline"][key]
            ratio = f"{a / b:.2f}x" if isinstance(a, int | float) and b else "-"
            lines.append(f"  {key:38s} {_fmt(a):>12s} {_fmt(b):>12s} {ratio:>17s}")
    if len(results) == 2:
        lines.append("\ngrowth from the real catalogue to the 10x one (10x entries):")
        for who in ("matcher", "baseline"):
            small, big = results[0][who], results[1][who]
            parts = [
                f"{k.split('_')[0] if k.startswith('build') else k}: {big[k] / small[k]:.1f}x"
                for k in ("build_ms", "index_mib", "latency_median_us", "latency_p99_us")
                if small[k]
            ]
            lines.append(f"  {who:9s} " + ", ".join(parts))
    real = results[0]["matcher"]
    verdicts = [
        f"{label} ({'ok' if real[key] < limit else 'MISSED'})"
        for label, key, limit in (
            ("p99 < 1000 us", "latency_p99_us", 1000),
            ("build < 1000 ms", "build_ms", 1000),
            ("index < 50 MiB", "index_mib", 50),
        )
    ]
    lines.append("\ntargets on the real catalogue: " + ", ".join(verdicts))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a table"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the queries")
    args = parser.parse_args(argv)
    rs = load_ruleset()
    queries = [row.query for tsv in LABELLED for row in read_tsv(DATA / tsv)]
    results = [
        measure("real catalogue", rs, queries, args.rounds, accuracy=True),
        measure(
            "synthetic 10x catalogue",
            synthetic(rs),
            queries,
            max(1, args.rounds // 2),
            accuracy=False,
        ),
    ]
    results[0]["queries"] = len(queries)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print(
            f"{len(queries)} labelled queries ({', '.join(LABELLED)}), {args.rounds} timed rounds"
        )
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
