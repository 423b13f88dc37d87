"""Measuring routing offline: labeled sets, metrics, backtests of a changed rule set, simulated review."""
