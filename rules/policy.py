"""The decision policy of a rule set (re-exported by :mod:`rules.schema`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rules import checks

Mode = Literal["top_k", "threshold", "multi_label"]
MODES = ("top_k", "threshold", "multi_label")
THREADS = ("follow", "rescore", "off")  # what a reply to a decided mail gets (worker/pipeline/threads.py)
DEFAULT_THRESHOLD = 0.5
# top_k without an explicit threshold is a plain argmax: every category passes
DEFAULT_TOP_K_THRESHOLD = 0.0


@dataclass(frozen=True, init=False)
class Policy:
    r"""How scores become labels.

    ``mode``: ``top_k`` keeps the ``top_k`` best passing categories, ``threshold`` the best passing
    one, ``multi_label`` every passing one. A category passes when its score is >= its own threshold,
    else >= ``threshold`` (default 0.5, or 0 in ``top_k`` mode). ``min_margin`` and ``review_band``
    send uncertain mails to review; ``fallback`` names the category used when nothing passes.
    ``cascade_top_m`` and ``target_precision`` are read by the scoring pipeline, not by the engine.
    ``threads``: a reply to a mail already decided ``follow``\ s its thread's decision unscored
    (default), or is scored on its own (``rescore``: with the thread noted; ``off``: as any mail).
    """

    mode: Mode
    top_k: int
    threshold: float
    min_margin: float
    review_band: tuple[float, float] | None
    fallback: str | None
    cascade_top_m: int | None
    target_precision: float | None
    threads: str

    def __init__(
        self,
        mode: Mode = "top_k",
        top_k: int = 1,
        threshold: float | None = None,
        min_margin: float = 0.0,
        review_band: tuple[float, float] | None = None,
        fallback: str | None = None,
        cascade_top_m: int | None = None,
        target_precision: float | None = None,
        threads: str = "follow",
    ) -> None:
        checks.one_of(mode, "mode", MODES)
        if threshold is None:
            threshold = DEFAULT_TOP_K_THRESHOLD if mode == "top_k" else DEFAULT_THRESHOLD
        values: dict[str, Any] = {
            "mode": mode,
            "top_k": checks.positive_int(top_k, "top_k"),
            "threshold": checks.unit(threshold, "threshold"),
            "min_margin": checks.unit(min_margin, "min_margin"),
            "review_band": None if review_band is None else checks.unit_range(review_band, "review_band"),
            "fallback": None if fallback is None else checks.text(fallback, "fallback"),
            "cascade_top_m": None
            if cascade_top_m is None
            else checks.positive_int(cascade_top_m, "cascade_top_m"),
            "target_precision": checks.optional_unit(target_precision, "target_precision"),
            "threads": checks.one_of(threads, "threads", THREADS),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def threshold_for(self, category_threshold: float | None) -> float:
        """The threshold a category must reach: its own when set, else the policy's."""
        return self.threshold if category_threshold is None else category_threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "top_k": self.top_k,
            "threshold": self.threshold,
            "min_margin": self.min_margin,
            "review_band": list(self.review_band) if self.review_band else None,
            "fallback": self.fallback,
            "cascade_top_m": self.cascade_top_m,
            "target_precision": self.target_precision,
        } | ({"threads": self.threads} if self.threads != "follow" else {})  # default: digests unchanged
