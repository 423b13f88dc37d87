"""Security checks reuse the admin fixtures (an app on SQLite, anonymous and logged-in clients)."""

from tests.admin.conftest import anon, app, client, enqueued

__all__ = ["anon", "app", "client", "enqueued"]
