"""Scoring backends behind one interface: ``score(mails, labels) -> [mails × labels]`` in [0, 1]."""

from worker.scoring.base import ScoreMatrix, Scorer

__all__ = ["ScoreMatrix", "Scorer"]
