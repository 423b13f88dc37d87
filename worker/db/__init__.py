"""The ledger: SQLAlchemy models (messages, scores, decisions, the action outbox, corrections,
cursors, leases), sessions, and the Prometheus metrics read from it."""
