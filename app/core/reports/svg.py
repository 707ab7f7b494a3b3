"""Small, dependency-free SVG charts for self-contained reports (nothing loaded from a CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from app.core.metrics import Rate
from app.core.outcomes import Outcome

# Okabe–Ito: told apart with every common colour-vision deficiency, on light and dark.
# Tol's muted colours follow for more series than eight.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999", "#F0E442",
           "#882255", "#44AA99", "#332288", "#117733")
# One clearly different colour per failure mode (Tol's muted and bright sets, Okabe–Ito).
FAILURE_COLOURS = {
    Outcome.PARTIAL: "#999933",
    Outcome.NO_TOOL_CALL: "#E69F00",
    Outcome.MALFORMED_CALL: "#CCBB44",
    Outcome.UNKNOWN_TOOL: "#AA4499",
    Outcome.BAD_ARGUMENTS: "#CC6677",
    Outcome.WRONG_TOOL: "#882255",
    Outcome.UNWANTED_CALL: "#DDCC77",
    Outcome.TURN_BUDGET: "#332288",
    Outcome.TOKEN_BUDGET: "#88CCEE",
    Outcome.TIME_BUDGET: "#44AA99",
    Outcome.LOOP: "#777777",
    Outcome.WRONG_RESULT: "#D55E00",
    Outcome.CONTEXT_LIMIT: "#117733",
    Outcome.HARNESS_KILLED: "#8C564B",
    Outcome.HARNESS_ERROR: "#E377C2",
}


def rate_bars(title: str, groups: Sequence[str], series: Sequence[tuple[str, Sequence[Rate]]]) -> str:
    """Grouped bars of pass rate (0–100%) with 95% Wilson interval whiskers."""
    width, height, left, bottom, top = 760, 300, 48, 60, 30
    plot_w, plot_h = width - left - 16, height - top - bottom
    n_series = max(1, len(series))
    group_w = plot_w / max(1, len(groups))
    bar_w = min(28.0, group_w * 0.8 / n_series)
    parts = [_frame(width, height, title), _y_axis(left, top, plot_w, plot_h)]
    for gi, group in enumerate(groups):
        cx = left + group_w * (gi + 0.5)
        parts.append(_text(cx, height - bottom + 16, group, anchor="middle", size=11))
        for si, (name, rates) in enumerate(series):
            rate = rates[gi]
            if not rate.scored:
                continue
            x = cx - bar_w * n_series / 2 + si * bar_w
            value = rate.value or 0.0
            y = top + plot_h * (1 - value)
            colour = PALETTE[si % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{top + plot_h - y:.1f}" '
                f'fill="{colour}"><title>{escape(name)} · {escape(group)}: {escape(str(rate))}</title></rect>'
            )
            low, high = rate.interval
            wx = x + (bar_w - 2) / 2
            y_low, y_high = top + plot_h * (1 - low), top + plot_h * (1 - high)
            parts.append(f'<line x1="{wx:.1f}" x2="{wx:.1f}" y1="{y_low:.1f}" y2="{y_high:.1f}" class="whisker"/>')
            for yy in (y_low, y_high):
                parts.append(f'<line x1="{wx - 4:.1f}" x2="{wx + 4:.1f}" y1="{yy:.1f}" y2="{yy:.1f}" class="whisker"/>')
    parts.append(_legend([(name, PALETTE[i % len(PALETTE)]) for i, (name, _) in enumerate(series)], left, height - 22))
    parts.append("</svg>")
    return "".join(parts)


def failure_bars(title: str, models: Sequence[str], failures: Sequence[dict[Outcome, int]]) -> str:
    """One horizontal stacked bar per model: how its failed attempts ended."""
    row_h, left, top = 26, 180, 30
    modes = [m for m in FAILURE_COLOURS if any(f.get(m) for f in failures)]
    height = top + row_h * max(1, len(models)) + 56
    width = 760
    plot_w = width - left - 20
    biggest = max((sum(f.values()) for f in failures), default=0) or 1
    parts = [_frame(width, height, title)]
    for i, (model, counts) in enumerate(zip(models, failures, strict=True)):
        y = top + i * row_h
        parts.append(_text(left - 8, y + 16, model, anchor="end", size=11))
        x = float(left)
        for mode in modes:
            n = counts.get(mode, 0)
            if not n:
                continue
            w = plot_w * n / biggest
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{FAILURE_COLOURS[mode]}">'
                f"<title>{escape(model)}: {n} × {mode.value}</title></rect>"
            )
            x += w
        if not counts:
            parts.append(_text(left + 4, y + 16, "no failures", size=11))
    parts.append(_legend([(m.value, FAILURE_COLOURS[m]) for m in modes], 16, height - 22))
    parts.append("</svg>")
    return "".join(parts)


def gap_scatter(title: str, points: Sequence[tuple[str, float, float]]) -> str:
    """Agent score (y) against code score (x) with the diagonal: below it is the gap.
    Ticks on both axes; every point is named, points on one spot share one label."""
    size, left, top = 420, 56, 40
    plot = size - left - 24
    parts = [_frame(size + 300, size + 30, title)]
    parts.append(f'<rect x="{left}" y="{top}" width="{plot}" height="{plot}" class="plot"/>')
    for pct in (0, 25, 50, 75, 100):
        x = left + plot * pct / 100
        y = top + plot * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{left + plot}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot}" class="grid"/>')
        parts.append(_text(left - 6, y + 4, f"{pct}%", anchor="end", size=11))
        parts.append(_text(x, top + plot + 16, f"{pct}%", anchor="middle", size=11))
    parts.append(f'<line x1="{left}" y1="{top + plot}" x2="{left + plot}" y2="{top}" class="diagonal"/>')
    parts.append(_text(left + plot / 2, top + plot + 34, "code score (one-shot)", anchor="middle", size=12))
    parts.append(_text(8, top - 8, "agent score", size=12))
    spots: dict[tuple[int, int], list[str]] = {}
    for i, (name, code, agent) in enumerate(points):
        x = left + plot * code
        y = top + plot * (1 - agent)
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}" stroke="#0f172a" stroke-width="0.8">'
            f"<title>{escape(name)}: code {100 * code:.0f}%, agent {100 * agent:.0f}%</title></circle>"
        )
        spots.setdefault((round(x), round(y)), []).append(name)
    for (x, y), names in spots.items():
        anchor, dx = ("end", -9) if x > left + plot * 0.6 else ("start", 9)
        for j, name in enumerate(names):
            parts.append(_text(x + dx, y + 4 + 13 * j, name[:28], anchor=anchor, size=10))
    legend = [(name, PALETTE[i % len(PALETTE)]) for i, (name, _, _) in enumerate(points)]
    parts.append(_legend(legend, size + 10, top + 8, vertical=True))
    parts.append("</svg>")
    return "".join(parts)


def _frame(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" class="chart">'
        "<style>text{font:12px system-ui,sans-serif;fill:#334155}.whisker{stroke:#0f172a;stroke-width:1.4}"
        ".grid{stroke:#e2e8f0}.plot{fill:none;stroke:#cbd5e1}.diagonal{stroke:#94a3b8;stroke-dasharray:4 4}</style>"
        f'<text x="8" y="18" style="font-weight:600">{escape(title)}</text>'
    )


def _y_axis(left: int, top: int, plot_w: int, plot_h: int) -> str:
    lines = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        lines.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        lines.append(_text(left - 6, y + 4, f"{pct}%", anchor="end", size=10))
    return "".join(lines)


def _legend(items: Sequence[tuple[str, str]], x: float, y: float, *, vertical: bool = False) -> str:
    parts = []
    for i, (name, colour) in enumerate(items):
        xx, yy = (x, y + 18 * i) if vertical else (x + 130 * (i % 5), y + 16 * (i // 5))
        parts.append(f'<rect x="{xx}" y="{yy - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(xx + 14, yy, name[:40] if vertical else name[:22], size=10))
    return "".join(parts)


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" style="font-size:{size}px">{escape(text)}</text>'
