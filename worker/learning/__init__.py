"""What routing learns from reviews: few-shot memory, learned thresholds, the reviewed history."""
