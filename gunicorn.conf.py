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
