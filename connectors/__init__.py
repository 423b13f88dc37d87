"""Mail sources and sinks: IMAP poller and actions, webhooks, local .eml/mbox/Maildir import."""
