"""The ground floor every step stands on: typed settings, the exception hierarchy, logging.

Imports nothing of mailroute but :mod:`rules.errors` (the root of the exception hierarchy).
"""
