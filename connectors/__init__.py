"""Mail sources and sinks below the wiring layer: IMAP (poller, watcher, actions) and webhooks."""
