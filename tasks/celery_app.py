"""The Celery app, made from the Flask app factory so worker, beat and bridge share settings.

Run: ``celery --app tasks.celery_app worker`` / ``celery --app tasks.celery_app beat``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.signals import setup_logging, worker_process_init, worker_process_shutdown
from flask import Flask
from kombu import Queue

from app import create_app
from app.extensions import db
from app.pipeline.kombu_unacked import survive_lost_connection
from config.settings import TASK_OVERHEAD_SECONDS
from tasks.backfill import BACKFILL_QUEUE, BACKFILL_STEP_SECONDS, BACKFILL_TASK
from tasks.maintenance import MAINTAIN_INTERVAL_SECONDS, MAINTAIN_TASK
from tasks.notify import DELIVER_TASK, FAN_OUT_TASK, NOTIFY_QUEUE, SWEEP_TASK
from tasks.producer import close_producer

TASK_MODULES = ["tasks.fetch", "tasks.pipeline", "tasks.notify", "tasks.maintenance", "tasks.backfill"]
SWEEP_INTERVAL_SECONDS = 10.0
RESTORE_SWEEP_SECONDS = 5  # how often a worker looks for tasks a dead worker held (see below)


def celery_init_app(app: Flask) -> Celery:
    """A Celery app whose tasks each run inside ``app``'s application context."""
    settings = app.config["SETTINGS"]

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, include=TASK_MODULES)
    celery.conf.update(
        broker_url=settings.require("CELERY_BROKER_URL"),
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,  # no task's return value is read; no result backend
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        # Short tasks: a few prefetched per process. acks_late tasks held by a worker that dies
        # come back after the visibility timeout (Kombu's default is an hour); ours is fitted
        # to the tasks' time limits, so a crash costs seconds, not an hour.
        worker_prefetch_multiplier=4,
        # When the broker connection drops, tasks already running cannot be acked: cancel them
        # so they are redelivered (they are idempotent) instead of finishing unacknowledged.
        # Celery 6's default; saying it also silences its deprecation warning at every reconnect.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout_seconds,
            # Kombu looks for such tasks only every 10 s x 10 (its interval and throttle): with
            # those defaults a batch held by a killed worker came back after up to 100 s more
            # (tests/integration/test_faults.py). Every 5 s: back within the timeout + 5 s.
            "unacked_restore_interval": RESTORE_SWEEP_SECONDS,
            "unacked_restore_throttle": 1,
        },
        # A plain `celery worker` consumes both queues; `--queues notifications` takes one. The
        # history backfill's queue is not among them: only the backfill process (Procfile) takes it.
        task_queues=(Queue("celery"), Queue(NOTIFY_QUEUE)),
        task_routes={
            **{name: {"queue": NOTIFY_QUEUE} for name in (DELIVER_TASK, SWEEP_TASK, FAN_OUT_TASK)},
            BACKFILL_TASK: {"queue": BACKFILL_QUEUE},
        },
        task_annotations={
            DELIVER_TASK: {
                "soft_time_limit": settings.notify_timeout_seconds + TASK_OVERHEAD_SECONDS / 2,
                "time_limit": settings.notify_timeout_seconds + TASK_OVERHEAD_SECONDS,
            }
        },
        beat_schedule={
            "fetch-prices": {
                "task": "tasks.fetch.fetch_prices",
                "schedule": settings.fetch_interval_seconds,
                # A run still queued when the next is due is stale: drop it rather than pile up.
                "options": {"expires": settings.fetch_interval_seconds},
            },
            "sweep-deliveries": {
                "task": SWEEP_TASK,
                "schedule": SWEEP_INTERVAL_SECONDS,
                "options": {"expires": SWEEP_INTERVAL_SECONDS},
            },
            "backfill-history": {
                "task": BACKFILL_TASK,
                "schedule": BACKFILL_STEP_SECONDS,
                "options": {"expires": BACKFILL_STEP_SECONDS},
            },
            "maintain-storage": {
                "task": MAINTAIN_TASK,
                "schedule": MAINTAIN_INTERVAL_SECONDS,
                "options": {"expires": MAINTAIN_INTERVAL_SECONDS},
            },
        },
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


@setup_logging.connect
def _one_logging_setup(**_: Any) -> None:
    """Celery's loggers go through config.logging (set up by create_app) like every process's:
    LOG_LEVEL decides for all, and Celery's --loglevel is not needed."""


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    # A forked pool process must not share the parent's database sockets.
    with flask_app.app_context():
        db.engine.dispose(close=False)


@worker_process_shutdown.connect
def _close_producer(**_: Any) -> None:
    close_producer()


survive_lost_connection()  # a Redis that goes away must not end the worker (see the module)
flask_app = create_app()
celery = celery_init_app(flask_app)
