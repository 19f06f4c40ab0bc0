"""reports/eval_conversations.md and .json, and the console summary, of the multi-turn evaluation.

Turn text appears only in the report files and in the failure list: the conversations are
synthetic and those lists are the point of the tool.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aftercare_tools.evaluation.conversation_metrics import ConversationMetrics, TurnResult
from aftercare_tools.evaluation.report import _cell, _pct, _table

MARKDOWN = "eval_conversations.md"
JSON = "eval_conversations.json"


def _rate_text(rate: dict[str, Any]) -> str:
    low, high = rate["ci95"]
    return f"{rate['count']} of {rate['of']} ({_pct(rate['rate'])}, 95% CI {_pct(low)}-{_pct(high)})"


def _expected(result: TurnResult) -> str:
    expect = result.turn.expect
    flags = [" no question" if expect.no_question else "", f" asks {expect.asks}" if expect.asks else ""]
    return expect.level + ",".join(f for f in flags if f)


def _got(result: TurnResult) -> str:
    seen = result.observed
    if seen.error:
        return f"ERROR {seen.error}"
    asked = f" + question ({', '.join(seen.asked) or 'other'})" if seen.asked_question else ""
    return f"{seen.level}{asked}"


def render_markdown(metrics: ConversationMetrics, meta: dict[str, Any]) -> str:
    d = metrics.to_dict()
    gate = d["gate"]
    lines = [
        "# Multi-turn triage evaluation",
        "",
        f"Generated {meta.get('generated', '?')} by `aftercare eval --conversations` from "
        f"`{meta.get('conversation_set', '?')}` ({d['conversations']} synthetic conversations, "
        f"{d['turns']} patient turns) through {meta.get('target', 'the patient API')}: each turn is "
        "a POST to /api/v1/conversations/{id}/messages (detector, Rasa, safety net, escalations, "
        "persistence), so the assistant sees the conversation as a patient's phone would send it.",
        "",
        "A turn's checks: its triage level equals the expected one, and, where the turn says "
        "`no_question`, the reply asks nothing (no '?', no follow-up kind). `asks` is reported only.",
        "",
        f"**Gate: {'PASS' if gate['passed'] else 'FAIL'}** (hard: {gate['hard']}; regression floors "
        "at today's measured values, to be raised to 100% of checks, 0 under-triaged turns and 0 "
        "questions after an emergency by the conversation-aware triage engine of issue 11)",
        "",
        *_table(
            ["measure", "value", "floor"],
            [
                ["checks passed", _rate_text(d["check_pass_rate"]), f">= {gate['floors']['min_checks_passed']}"],
                ["turns passing every check", _rate_text(d["turn_pass_rate"]), "–"],
                ["conversations passing every check", f"{d['conversations_passed']} of {d['conversations']}", "–"],
                [
                    "under-triaged turns (level below expected)",
                    _rate_text(d["under_triage_rate"]),
                    f"<= {gate['floors']['max_under_triaged']}",
                ],
                ["over-triaged turns (level above expected)", _rate_text(d["over_triage_rate"]), "–"],
                [
                    "questions after an emergency reply",
                    d["questions_after_emergency"],
                    f"<= {gate['floors']['max_questions_after_emergency']}",
                ],
                ["turns without a reply (HTTP error, crash)", d["errors"], "= 0 (hard)"],
                [
                    "expected question asked (`asks`, not gated)",
                    f"{d['asks']['asked']} of {d['asks']['labelled']}",
                    "–",
                ],
            ],
        ),
        "",
    ]
    if gate["failures"]:
        lines += ["Gate failures:", "", *[f"- {f}" for f in gate["failures"]], ""]
    lines += [
        "Replies by `answered_by`: " + ", ".join(f"{k} {v}" for k, v in d["answered_by"].items()) + ".",
        "",
        "## Per category",
        "",
        *_table(
            [
                "category",
                "conversations passing",
                "turns",
                "checks passed",
                "under-triaged",
                "over-triaged",
                "questions after emergency",
            ],
            [
                [
                    c,
                    f"{v['conversations_passed']}/{v['conversations']}",
                    v["turns"],
                    f"{v['checks_passed']}/{v['checks']}",
                    v["under_triaged"],
                    v["over_triaged"],
                    v["questions_after_emergency"],
                ]
                for c, v in d["by_category"].items()
            ],
        ),
        "",
        "## Failing conversations",
        "",
        "Every turn of each conversation with a failed check; failed turns are marked **x**.",
        "",
    ]
    failing = [(cid, turns) for cid, turns in metrics.conversations.items() if not all(t.passed for t in turns)]
    if not failing:
        lines.append("None.")
    for cid, turns in failing:
        lines += [f"### {cid} ({turns[0].conversation.category})", ""]
        lines += _table(
            ["", "turn", "expected", "got", "answered by", "message"],
            [
                ["" if t.passed else "**x**", t.number, _expected(t), _got(t), t.observed.answered_by, t.turn.text]
                for t in turns
            ],
        )
        lines.append("")
    latency = meta.get("latency")
    if latency:
        lines += [
            "## Latency",
            "",
            f"Per turn through the API: median {latency['p50_ms']:.1f} ms, 95th percentile "
            f"{latency['p95_ms']:.1f} ms, max {latency['max_ms']:.1f} ms; whole run {meta.get('seconds', 0):.1f} s.",
            "",
        ]
    return "\n".join(lines)


def write_reports(metrics: ConversationMetrics, meta: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out_dir / MARKDOWN, "json": out_dir / JSON}
    paths["markdown"].write_text(render_markdown(metrics, meta), encoding="utf-8")
    document = {"meta": meta, **metrics.to_dict(), "rows": [r.row() for r in metrics.results]}
    paths["json"].write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


def summary_text(metrics: ConversationMetrics) -> str:
    """One screen of numbers, no message text."""
    d = metrics.to_dict()
    lines = [
        f"Multi-turn evaluation: {d['conversations']} conversations, {d['turns']} turns, {d['checks']} checks",
        "",
        f"  checks passed          {_rate_text(d['check_pass_rate'])}",
        f"  conversations passing  {d['conversations_passed']} of {d['conversations']}",
        f"  under-triaged turns    {_rate_text(d['under_triage_rate'])}",
        f"  over-triaged turns     {_rate_text(d['over_triage_rate'])}",
        f"  questions after an emergency reply  {d['questions_after_emergency']}",
        f"  turns without a reply  {d['errors']}",
        "",
        "  " + "category".ljust(22) + "checks    under  over",
    ]
    for category, v in d["by_category"].items():
        lines.append(
            f"  {category:22}{v['checks_passed']:>3}/{v['checks']:<3}   {v['under_triaged']:>4}  {v['over_triaged']:>4}"
        )
    lines += ["", f"MULTI-TURN GATE {'PASSED' if d['gate']['passed'] else 'FAILED'}"]
    lines += [f"  {failure}" for failure in d["gate"]["failures"]]
    return "\n".join(lines)


def failure_text(metrics: ConversationMetrics) -> str:
    """The turns behind each failed gate criterion."""
    rows = [r for r in metrics.results if r.observed.error or r.under_triaged or r.question_after_emergency]
    return "\n".join(
        f"  [{r.conversation.id} turn {r.number}] expected {_expected(r)}, got {_got(r)}: {_cell(r.turn.text)}"
        for r in rows
    )
