"""The admin: review web app, JSON API, health and metrics (``mailroute admin serve``)."""
