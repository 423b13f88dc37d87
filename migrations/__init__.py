"""Alembic environment and revisions (``mailroute db upgrade`` or ``alembic upgrade head``)."""
