"""A stacked bar chart of cases per week and tier as inline SVG, drawn on the server: no
script, no CDN, no inline style (CSP style-src 'self': colours come from staff.css classes)."""

from __future__ import annotations

from markupsafe import Markup, escape

from api.reports.service import TIERS, Report

WIDTH, HEIGHT = 720, 260
LEFT, BOTTOM, TOP = 40, 40, 16


def cases_chart(report: Report, labels: dict[str, str]) -> Markup:
    counts = {(r.week, r.tier): r.cases for r in report.rows}
    weeks = [w.week for w in report.weeks]
    peak = max([w.cases for w in report.weeks] + [1])
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(weeks), 1)
    bar = max(slot * 0.6, 4)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc">',
        '<title id="chart-title">Cases per week by tier</title>',
        f'<desc id="chart-desc">Stacked bars for {len(weeks)} weeks; the table below has the figures.</desc>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH}" y2="{TOP + plot_h}" stroke="#4a5360"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i, week in enumerate(weeks):
        x = LEFT + i * slot + (slot - bar) / 2
        y = float(TOP + plot_h)
        for tier in TIERS:
            count = counts.get((week, tier), 0)
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(
                f'<rect class="bar-{tier}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                f"<title>{escape(week)}: {count} {escape(labels.get(tier, tier))}</title></rect>"
            )
        if len(weeks) <= 16 or i % 2 == 0:  # keep the week labels readable
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(week[5:])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)
