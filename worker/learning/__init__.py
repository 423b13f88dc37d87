"""Routing that learns from reviews: learned thresholds, few-shot memory, simulation, backtests."""
