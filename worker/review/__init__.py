"""Step 5, review: a reviewer approves or corrects a decision; the outbox follows the new labels."""
