"""IMAP: accounts, connections (TLS, XOAUTH2), folder leases, the poller and IDLE watcher, and the
executors of IMAP actions (keywords, flags, Gmail labels, moves)."""
