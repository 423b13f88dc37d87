"""Dashboard plots, rendered on the server as PNG by matplotlib's Agg backend (nothing external loads)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
BLUE, GREEN, AMBER, VIOLET = "#2563eb", "#059669", "#d97706", "#7c3aed"
_lock = threading.Lock()  # pyplot state is global: one figure at a time


def _figure(draw: Callable[[Any], None], *, height: float = 2.6, horizontal: bool = False) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    with _lock:
        fig, ax = plt.subplots(figsize=(7.2, height), dpi=110)
        try:
            ax.spines[["top", "right"]].set_visible(False)
            ax.spines[["left", "bottom"]].set_color(GRID)
            ax.tick_params(colors=MUTED, labelsize=8)
            ax.grid(axis="y", color=GRID, linewidth=0.8)
            ax.set_axisbelow(True)
            draw(ax)
            counts = ax.xaxis if horizontal else ax.yaxis
            counts.set_major_locator(MaxNLocator(integer=True))  # counts of mails: no 2.5 ticks
            fig.tight_layout()
            out = io.BytesIO()
            fig.savefig(out, format="png")
            return out.getvalue()
        finally:
            plt.close(fig)


def _days(stats: dict[str, Any]) -> list[str]:
    return [d[5:] for d in stats["days"]]  # MM-DD


def _thin_ticks(ax: Any, labels: list[str]) -> None:
    step = max(1, len(labels) // 10)
    ax.set_xticks(range(0, len(labels), step), labels[::step])


def volume(stats: dict[str, Any]) -> bytes:
    """Mails received and decided per day."""

    def draw(ax: Any) -> None:
        days, series = _days(stats), stats["series"]
        x = range(len(days))
        ax.bar([i - 0.2 for i in x], series["received"], width=0.4, color=BLUE, label="received")
        ax.bar([i + 0.2 for i in x], series["decided"], width=0.4, color=GREEN, label="decided")
        _thin_ticks(ax, days)
        ax.legend(frameon=False, fontsize=8, labelcolor=INK, loc="upper left")

    return _figure(draw)


def review(stats: dict[str, Any]) -> bytes:
    """Mails sent to review and reviewed per day."""

    def draw(ax: Any) -> None:
        days, series = _days(stats), stats["series"]
        ax.plot(days, series["sent_to_review"], color=AMBER, marker="o", markersize=3, label="sent to review")
        ax.plot(days, series["reviewed"], color=VIOLET, marker="o", markersize=3, label="reviewed")
        _thin_ticks(ax, days)
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, fontsize=8, labelcolor=INK, loc="upper left")

    return _figure(draw)


def labels(stats: dict[str, Any]) -> bytes:
    """Decisions per label over the window."""
    items = list(stats["labels"].items())[:12][::-1]

    def draw(ax: Any) -> None:
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.barh([name[:32] for name, _ in items], [n for _, n in items], color=BLUE, height=0.6)
        if not items:
            ax.text(
                0.5, 0.5, "no decisions yet", ha="center", va="center", color=MUTED, transform=ax.transAxes
            )

    return _figure(draw, height=max(2.0, 0.32 * len(items) + 0.8), horizontal=True)


CHARTS: dict[str, Callable[[dict[str, Any]], bytes]] = {"volume": volume, "review": review, "labels": labels}
