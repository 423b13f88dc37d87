"""Scoring backends behind one interface: ``score(mails, labels) -> [mails × labels]`` in [0, 1]."""

from worker.scoring.base import Scorer, ScoreMatrix

__all__ = ["ScoreMatrix", "Scorer"]
