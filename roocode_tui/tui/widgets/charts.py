"""Time charts with labelled axes and units (plotext through textual-plotext).

This module imports plotext: import it only when a chart is first shown (F3, F2), never at the
app's import, so the first frame does not wait for it.
"""

from __future__ import annotations

import math
from typing import Any

from textual_plotext import PlotextPlot

COLORS = ("cyan", "magenta", "green", "yellow")


def nice_top(value: float) -> float:
    """A round upper bound for a y axis: 1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    return next(m * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= value)


def fmt_number(x: float) -> str:
    if x >= 10_000:
        return f"{x / 1000:.0f}k"
    if x >= 1000:
        return f"{x / 1000:.1f}k".replace(".0k", "k")
    if x == int(x):
        return f"{x:.0f}"
    return f"{x:.1f}"


def segments(points: list[list[float]], step: float) -> list[tuple[list[float], list[float]]]:
    """Split a series where buckets are missing (nothing measured), so a line does not bridge a
    gap: [(ages, values), ...]."""
    out: list[tuple[list[float], list[float]]] = []
    last: float | None = None
    for point in points:
        age, value = point[0], point[1]
        if last is None or age - last > step * 1.5:
            out.append(([], []))
        out[-1][0].append(age)
        out[-1][1].append(value)
        last = age
    return out


def x_ticks(span_s: float) -> tuple[list[float], list[str], str]:
    """Ticks of a time axis that ends now: (positions in seconds, labels, axis label)."""
    if span_s <= 300:
        ticks = [-300.0, -240.0, -180.0, -120.0, -60.0, 0.0]
        return ticks, [f"-{int(-t // 60)}m" if t else "now" for t in ticks], "minutes ago"
    if span_s <= 3600:
        ticks = [-3600.0, -2700.0, -1800.0, -900.0, 0.0]
        return ticks, [f"-{int(-t // 60)}m" if t else "now" for t in ticks], "minutes ago"
    ticks = [-21600.0, -18000.0, -14400.0, -10800.0, -7200.0, -3600.0, 0.0]
    return ticks, [f"-{int(-t // 3600)}h" if t else "now" for t in ticks], "hours ago"


def elapsed_ticks(end_s: float) -> tuple[list[float], list[str], str]:
    """Ticks of a time axis from a run's start to ``end_s`` seconds."""
    unit, name = (1, "s") if end_s <= 120 else (60, "m") if end_s <= 7200 else (3600, "h")
    step = nice_top(end_s / unit / 4) * unit
    ticks = [i * step for i in range(int(end_s // step) + 1)]
    return ticks, [f"{t / unit:g}{name}" for t in ticks], "since the run started"


class TimeChart(PlotextPlot):
    """One chart of one or more series of the same unit over a time axis ending now."""

    def __init__(self, title: str, unit: str, names: list[tuple[str, str]], *, top: float | None = None, **kw: Any):
        """``title`` names the unit too; ``unit`` labels the y axis; ``names``: (series name in
        the history, legend label); ``top``: a fixed y maximum (100 for a percentage), else one
        above the data."""
        super().__init__(**kw)
        self.title = title
        self.unit = unit
        self.names = names
        self.top = top
        self.empty_note = "no readings yet"

    def show(self, history: dict[str, Any], top: float | None = None, note: str = "") -> None:
        """Draw the window ``history`` (``MetricHistory.window()``); ``top`` overrides the y
        maximum (VRAM: the GPUs' total); ``note``: why there is nothing to draw."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        span, step = float(history["span_s"]), float(history["step_s"])
        series = history["series"]
        values: list[float] = []
        drawn = False
        for (name, label), color in zip(self.names, COLORS, strict=False):
            points = series.get(name, {}).get("points", [])
            for i, (ages, ys) in enumerate(segments(points, step)):
                plt.plot(ages, ys, color=color, label=label if i == 0 and len(self.names) > 1 else None)
                values.extend(ys)
                drawn = True
        peak = top or self.top or nice_top(max(values) * 1.1 if values else 1.0)
        plt.title(self.title if drawn else f"{self.title}: {note or self.empty_note}")
        ticks, labels, axis = x_ticks(span)
        plt.xlim(-span, 0)
        plt.xticks(ticks, labels)
        plt.xlabel(axis)
        plt.ylim(0, peak)
        plt.yticks([0, peak / 2, peak], [fmt_number(0), fmt_number(peak / 2), fmt_number(peak)])
        plt.ylabel(self.unit)
        self.refresh()


class RunChart(PlotextPlot):
    """F2: a run's tokens/s since its start, against the best rate the engine's embedder
    sustained lately (the highest 12 s mean of the last hour, MetricHistory.best())."""

    def show(self, run: dict[str, Any] | None, best: float | None) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        points = (run or {}).get("points", [])
        end = max(60.0, points[-1][0] if points else 0.0)
        values = [p[2] for p in points]
        if points:
            plt.plot([p[0] for p in points], values, color="cyan", label="this run")
        if best:
            plt.plot([0.0, end], [best, best], color="green", label=f"best 12 s, last hour: {best:,.0f}")
        peak = nice_top(max([*values, best or 0.0, 1.0]) * 1.1)
        note = "" if points else ": no samples yet"
        plt.title(f"throughput (tokens/s){note}")
        ticks, labels, axis = elapsed_ticks(end)
        plt.xlim(0, end)
        plt.xticks(ticks, labels)
        plt.xlabel(axis)
        plt.ylim(0, peak)
        plt.yticks([0, peak / 2, peak], [fmt_number(0), fmt_number(peak / 2), fmt_number(peak)])
        plt.ylabel("tokens/s")
        self.refresh()
