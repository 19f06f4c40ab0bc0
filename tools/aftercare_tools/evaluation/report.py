"""Report writers: reports/eval.md, reports/eval.json, reports/eval_confusion.png, console text.

Message text appears only in the report files and in the failure list printed when the gate
fails: those lists are the point of the tool, and the evaluation messages are synthetic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aftercare_tools.evaluation.dataset import SIGNS
from aftercare_tools.evaluation.metrics import EvalMetrics

MARKDOWN = "eval.md"
JSON = "eval.json"
CONFUSION_PNG = "eval_confusion.png"


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def _cell(text: Any) -> str:
    """A value made safe for one Markdown table cell."""
    if text is None:
        return "–"
    if isinstance(text, (list, tuple)):
        text = ", ".join(map(str, text)) or "–"
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def gate_rows(metrics: EvalMetrics) -> list[tuple[str, str, str, str]]:
    g = metrics.gate
    ok = "PASS"
    bad = "**FAIL**"
    recall_ok = metrics.recall is not None and metrics.recall >= g.recall
    over_ok = metrics.over_triage_rate is not None and metrics.over_triage_rate <= g.max_over_triage
    topic_ok = metrics.topic_accuracy is not None and metrics.topic_accuracy >= g.min_topic_accuracy
    return [
        (
            "warning-sign recall",
            _pct(metrics.recall),
            f"= {_pct(g.recall)}",
            ok if recall_ok else bad,
        ),
        (
            "over-triage rate",
            _pct(metrics.over_triage_rate),
            f"<= {_pct(g.max_over_triage)}",
            ok if over_ok else bad,
        ),
        (
            "topic accuracy",
            _pct(metrics.topic_accuracy),
            f">= {_pct(g.min_topic_accuracy)}",
            ok if topic_ok else bad,
        ),
    ]


def _message_rows(rows: Sequence[dict[str, Any]], with_topic: bool = False) -> list[list[Any]]:
    out = []
    for r in rows:
        row = [
            r["id"],
            r["category"],
            r["expected_tier"],
            r["expected_signs"],
            r["tier"],
            r["signs"],
            r.get("detected_by") or None,
        ]
        if with_topic:
            row += [r["expected_topic"], r["topic"]]
        out.append([*row, r["text"]])
    return out


_MESSAGE_HEADER = [
    "id",
    "category",
    "expected tier",
    "expected signs",
    "got tier",
    "got signs",
    "detected by",
]


def render_markdown(
    metrics: EvalMetrics,
    meta: dict[str, Any],
    cross_validation: dict[str, Any] | None,
    confusion_png: str | None = CONFUSION_PNG,
) -> str:
    m = metrics
    emergency_hits = m.emergency_rows - len(m.under_triaged_emergencies)
    lines = [
        "# Triage evaluation",
        "",
        f"Generated {meta.get('generated', '?')} by `aftercare eval` from the held-out set "
        f"`{meta.get('eval_set', '?')}` ({meta.get('messages', '?')} synthetic messages, each in a "
        f"fresh conversation) against the model `{meta.get('model', '?')}`, through the full "
        "in-process pipeline (detector, Rasa NLU, rules, actions).",
        "",
        f"**Gate: {'PASS' if m.passed else 'FAIL'}**",
        "",
        *_table(["criterion", "value", "required", "result"], gate_rows(m)),
        "",
        "Messages per category: " + ", ".join(f"{k} {v}" for k, v in sorted(m.counts.items())) + ".",
        "",
        "## Warning-sign recall",
        "",
        f"A report counts as caught when the reply's tier is at least `call_provider`. "
        f"Caught {m.reports - len(m.missed)} of {m.reports} reports: recall {_pct(m.recall)}. "
        f"95% Clopper-Pearson upper bound on the miss rate: {_pct(m.miss_rate_upper_95, 2)} "
        "(upper end of the exact two-sided interval).",
        "",
        'Per sign, a sign counts as caught when its row escalated; "named" means the reply '
        "also listed that sign (the detector may not name a sign that only the model caught). "
        f"Overall sign-named recall: {_pct(m.sign_named_recall)}.",
        "",
        *_table(
            ["sign", "reports", "caught", "recall", "miss rate 95% upper", "named", "named recall"],
            [
                [
                    s,
                    d["rows"],
                    d["caught"],
                    _pct(d["recall"]),
                    _pct(d["miss_rate_upper_95"], 2),
                    d["named"],
                    _pct(d["named_recall"]),
                ]
                for s, d in ((s, m.per_sign[s]) for s in SIGNS)
            ],
        ),
        "",
        f"### Missed reports ({len(m.missed)})",
        "",
    ]
    if m.missed:
        lines += _table([*_MESSAGE_HEADER, "message"], _message_rows(m.missed))
    else:
        lines.append("None.")
    lines += [
        "",
        "## Emergency tier",
        "",
        f"Emergency rows that got `emergency`: {emergency_hits} of {m.emergency_rows} ({_pct(m.emergency_accuracy)}).",
        "",
    ]
    if m.under_triaged_emergencies:
        lines += _table([*_MESSAGE_HEADER, "message"], _message_rows(m.under_triaged_emergencies))
        lines.append("")
    lines += [
        "## Over-triage",
        "",
        f"Non-report messages whose reply tier was not `none`: {len(m.over_triaged)} of "
        f"{m.non_report_rows} ({_pct(m.over_triage_rate)}).",
        "",
        *_table(
            ["category", "rows", "over-triaged", "rate"],
            [[c, d["rows"], d["over_triaged"], _pct(d["rate"])] for c, d in sorted(m.over_triage_by_category.items())],
        ),
        "",
    ]
    if m.over_triaged:
        lines += _table([*_MESSAGE_HEADER, "message"], _message_rows(m.over_triaged))
        lines.append("")
    lines += [
        "## Topics",
        "",
        f"Topic questions answered with the expected topic: {m.topic_rows - len(m.topic_misses)} "
        f"of {m.topic_rows} ({_pct(m.topic_accuracy)}). Across every non-report message "
        f"(null topic expected for small talk, out of scope and handoff): "
        f"{_pct(m.topic_accuracy_all_labelled)} (not gated).",
        "",
        "Confusion matrix (rows: expected topic, columns: topic in the reply):",
        "",
        *_table(
            ["expected \\ got", *m.confusion_labels],
            [[label, *row] for label, row in zip(m.confusion_labels, m.confusion, strict=True)],
        ),
        "",
    ]
    if confusion_png:
        lines += [f"![topic confusion matrix]({confusion_png})", ""]
    lines += [f"### Topic misses ({len(m.topic_misses)})", ""]
    if m.topic_misses:
        lines += _table(
            [*_MESSAGE_HEADER, "expected topic", "got topic", "message"],
            _message_rows(m.topic_misses, with_topic=True),
        )
    else:
        lines.append("None.")
    lines.append("")
    if m.errors:
        lines += [
            f"## Errors ({len(m.errors)})",
            "",
            "`respond()` raised for these messages; each counts as a reply with tier `none`.",
            "",
        ]
        lines += _table(
            ["id", "category", "error", "message"],
            [[r["id"], r["category"], r["error"], r["text"]] for r in m.errors],
        )
        lines.append("")
    lines += ["## NLU cross-validation", ""]
    lines += _cross_validation_lines(cross_validation)
    latency = meta.get("latency")
    if latency:
        lines += [
            "## Latency",
            "",
            f"Per message, in process: mean {latency['mean_ms']:.1f} ms, median "
            f"{latency['p50_ms']:.1f} ms, 95th percentile {latency['p95_ms']:.1f} ms, "
            f"max {latency['max_ms']:.1f} ms; model load {meta.get('load_seconds', 0):.1f} s.",
            "",
        ]
    return "\n".join(lines)


def _cross_validation_lines(cv: dict[str, Any] | None) -> list[str]:
    if not cv:
        return [
            "Not run. `aftercare eval --cross-validation` runs Rasa's 5-fold NLU "
            "cross-validation (`rasa test nlu --cross-validation --folds 5`) and later runs "
            "reuse its summary.",
            "",
        ]
    lines = [
        f"{cv.get('folds', '?')}-fold intent cross-validation over the training data "
        f"(`{cv.get('report', '?')}`, generated {cv.get('generated', '?')}): "
        f"accuracy {_pct(cv.get('accuracy'))}, macro-F1 {_pct(cv.get('macro_f1'))}, "
        f"weighted F1 {_pct(cv.get('weighted_f1'))} over {cv.get('examples', '?')} examples "
        f"and {cv.get('intents', '?')} intents.",
        "",
    ]
    per_intent = cv.get("per_intent_f1") or {}
    if per_intent:
        lines += _table(["intent", "F1"], [[k, _pct(v)] for k, v in per_intent.items()])
        lines.append("")
    return lines


def write_confusion_png(labels: Sequence[str], matrix: Sequence[Sequence[int]], path: Path) -> None:
    """The topic confusion matrix as a heat map (matplotlib's Agg canvas, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    size = max(6.0, 0.75 * len(labels) + 2)
    figure = Figure(figsize=(size, size * 0.85), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_xticks(range(len(labels)))
    axes.set_yticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=45, ha="right")
    axes.set_yticklabels(labels)
    axes.set_xlabel("topic in the reply")
    axes.set_ylabel("expected topic")
    axes.set_title("Topic confusion matrix (evaluation set)")
    peak = max((max(row) for row in matrix if row), default=0)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                colour = "white" if count > peak / 2 else "black"
                axes.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=9)
    figure.tight_layout()
    figure.savefig(str(path))


def write_reports(
    metrics: EvalMetrics,
    meta: dict[str, Any],
    cross_validation: dict[str, Any] | None,
    out_dir: Path,
    rows: list[dict[str, Any]] | None = None,
) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out_dir / MARKDOWN, "json": out_dir / JSON, "png": out_dir / CONFUSION_PNG}
    write_confusion_png(metrics.confusion_labels, metrics.confusion, paths["png"])
    paths["markdown"].write_text(render_markdown(metrics, meta, cross_validation, CONFUSION_PNG), encoding="utf-8")
    document = {
        "meta": meta,
        **metrics.to_dict(),
        "cross_validation": cross_validation,
        "rows": rows or [],
    }
    paths["json"].write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


def summary_text(metrics: EvalMetrics, cross_validation: dict[str, Any] | None = None) -> str:
    """One screen of numbers, no message text."""
    m = metrics
    lines = [
        f"Triage evaluation: {sum(m.counts.values())} messages "
        f"({m.reports} reports, {m.non_report_rows} non-reports, {m.topic_rows} topic questions)",
        "",
    ]
    lines += [
        f"  {name:22} {value:>7}  (required {need:>7})  {result.strip('*')}"
        for name, value, need, result in gate_rows(m)
    ]
    lines += [
        "",
        f"  missed reports         {len(m.missed):>7}  miss-rate 95% upper bound {_pct(m.miss_rate_upper_95, 2)}",
        f"  sign-named recall      {_pct(m.sign_named_recall):>7}",
        f"  emergency accuracy     {_pct(m.emergency_accuracy):>7}  "
        f"({m.emergency_rows - len(m.under_triaged_emergencies)}/{m.emergency_rows})",
        f"  over-triaged rows      {len(m.over_triaged):>7}  of {m.non_report_rows}",
        f"  topic misses           {len(m.topic_misses):>7}  of {m.topic_rows}",
    ]
    weak = [s for s in SIGNS if (m.per_sign[s]["recall"] or 0) < 1.0 and m.per_sign[s]["rows"]]
    if weak:
        lines.append("  signs below 100%       " + ", ".join(f"{s} {_pct(m.per_sign[s]['recall'], 0)}" for s in weak))
    if m.errors:
        lines.append(f"  errors                 {len(m.errors):>7}  (respond() raised)")
    if cross_validation:
        lines.append(
            f"  NLU cross-validation   accuracy {_pct(cross_validation.get('accuracy'))}, "
            f"macro-F1 {_pct(cross_validation.get('macro_f1'))}, "
            f"weighted F1 {_pct(cross_validation.get('weighted_f1'))}"
        )
    lines += ["", f"GATE {'PASSED' if m.passed else 'FAILED'}"]
    return "\n".join(lines)


def _by(row: dict[str, Any]) -> str:
    return f" by {'+'.join(row['detected_by'])}" if row.get("detected_by") else ""


def failure_text(metrics: EvalMetrics) -> str:
    """The failing messages for each failed gate criterion (empty when the gate passes)."""
    m, g = metrics, metrics.gate
    blocks = []
    if m.recall is None or m.recall < g.recall:
        blocks.append(f"Missed warning-sign reports ({len(m.missed)}):")
        blocks += [
            f"  [{r['id']}] expected {r['expected_tier']} {r['expected_signs']}, got "
            f"{r['tier']}{' (error ' + r['error'] + ')' if r['error'] else ''}: {r['text']}"
            for r in m.missed
        ]
    if m.over_triage_rate is None or m.over_triage_rate > g.max_over_triage:
        blocks.append(f"Over-triaged non-reports ({len(m.over_triaged)}):")
        blocks += [
            f"  [{r['id']}] {r['category']}, got {r['tier']} {r['signs']}{_by(r)}: {r['text']}" for r in m.over_triaged
        ]
    if m.topic_accuracy is None or m.topic_accuracy < g.min_topic_accuracy:
        blocks.append(f"Topic misses ({len(m.topic_misses)}):")
        blocks += [
            f"  [{r['id']}] expected {r['expected_topic']}, got {r['topic']}: {r['text']}" for r in m.topic_misses
        ]
    return "\n".join(blocks)
