"""What routing learns from reviews: the learned classifier per rule set, thresholds, the history."""
