"""Step 3, route: parsed mail to scores to decision, saved with its outbox rows.

:func:`worker.pipeline.route.route` is the one place that turns a mail into a decision; the live
worker (:mod:`.classify`), the CLI, evaluation, backtests, the simulation and the playground all call
it. :mod:`.runtime` holds the per-process model and :mod:`.rulesource` the live rule set.
"""
