"""One module per scoring backend; each imports its heavy library (torch, vLLM, httpx) lazily.

Registered by name in :mod:`worker.scoring.registry` (names: ``worker.core.scoring_settings.BACKEND_NAMES``).
"""
