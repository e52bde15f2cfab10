"""gunicorn settings for trainer, read from the working directory by

    gunicorn 'trainer:create_app()'

Every value can be overridden on the command line (``--workers 4``) or by the environment
variables below. Measured on the 2-core benchmark machine with bench/exams_load.py (see README:
Exams, measured).
"""

import multiprocessing
import os

bind = os.environ.get("TRAINER_BIND", "127.0.0.1:8000")
# Threads let a worker overlap its requests' waits on PostgreSQL; processes use the cores.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("TRAINER_THREADS", 4))
# Behind a proxy the upstream connections are reused; keep them open a little longer than
# gunicorn's 2 s default so a pooled connection is not closed while a request is on its way.
keepalive = int(os.environ.get("TRAINER_KEEPALIVE", 5))
timeout = 30
graceful_timeout = 30
accesslog = None


def post_worker_init(worker):
    """Keep the app's start-up objects out of the garbage collector's full passes.

    A worker holds ~150,000 objects from loading the app (modules, SQLAlchemy metadata,
    translations) for its whole life; a full collection walks them all, ~55 ms on the
    benchmark machine, during which none of the worker's threads runs. Frozen after start-up,
    a full pass only walks what requests left behind.
    """
    import gc

    gc.collect()
    gc.freeze()
