"""Every task and action executor, registered: what a Celery worker loads (the app's ``include``).

Importing this module registers every task (classify, actions, webhooks, retrain) and every action
executor, and checks that each action kind of the rule language has one: a worker with a kind left
unwired stops at start-up with a ConfigError instead of skipping actions.
"""

from worker.tasks import jobs, learning, webhook_batch, webhooks
from worker.tasks.executors import install_executors
from worker.tasks.learning import enqueue_retrain
from worker.tasks.producer import enqueue_actions, enqueue_classify

install_executors()

__all__ = [
    "enqueue_actions",
    "enqueue_classify",
    "enqueue_retrain",
    "install_executors",
    "jobs",
    "learning",
    "webhook_batch",
    "webhooks",
]
