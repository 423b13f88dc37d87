"""Every task and action executor, registered: what a Celery worker loads (the app's ``include``).

Importing this module registers every task (classify, actions, webhooks, retrain) and every action
executor, and checks that each action kind of the rule language has one: a worker with a kind left
unwired stops at start-up with a ConfigError instead of skipping actions.
"""

from worker.tasks import jobs as jobs
from worker.tasks import learning as learning
from worker.tasks import webhook_batch as webhook_batch
from worker.tasks import webhooks as webhooks
from worker.tasks.executors import install_executors
from worker.tasks.learning import enqueue_retrain as enqueue_retrain
from worker.tasks.producer import enqueue_actions as enqueue_actions
from worker.tasks.producer import enqueue_classify as enqueue_classify

install_executors()
# Every name ``worker.tasks.__all__`` exports lazily is imported above (``X as X``: re-exported).
