"""Step 4, act: the outbox runner carries out decided actions, one executor class per kind.

Executors live with their connector (:mod:`connectors.imap.actions`, :mod:`connectors.webhook.delivery`)
and are registered explicitly by :mod:`worker.tasks.executors`.
"""
