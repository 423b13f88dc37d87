"""Step 1, store: raw mails into the ledger exactly once (IMAP, .eml/mbox/Maildir), and retention.

A stored message is never lost: it is decided, or kept with its error and retryable.
"""
