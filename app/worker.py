"""The background loop that watches the clocks: escalate, deliver, remind.

Each tick runs every job, writes a heartbeat (read by /healthz), then sleeps until the earliest
moment any job asked to be woken (capped at the tick period), so work leaves within a fraction of
a second of falling due instead of waiting out a fixed sleep. Any number of workers may run at
once: jobs coordinate only through the database.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy.engine import Engine
from sqlmodel import delete, update

from app.db import unit_of_work
from app.models import WorkerHeartbeat
from app.models.types import utcnow

log = logging.getLogger(__name__)

# A job does its own transactions and returns when it next wants to run (None: no opinion).
Job = Callable[[Engine, datetime], "datetime | None"]


def default_jobs() -> list[Job]:
    """The jobs every worker runs, in order. Feature modules add theirs here."""
    return []


class Worker:
    def __init__(self, engine: Engine, *, tick_seconds: float = 1.0, jobs: Iterable[Job] | None = None,
                 worker_id: str | None = None):
        self.engine = engine
        self.tick_seconds = tick_seconds
        self.jobs = list(default_jobs() if jobs is None else jobs)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._registered = False

    def heartbeat(self, now: datetime) -> None:
        with unit_of_work(self.engine) as session:
            if not self._registered:
                session.merge(WorkerHeartbeat(worker_id=self.worker_id, started_at=now, ticked_at=now))
                self._registered = True
            else:
                session.exec(
                    update(WorkerHeartbeat)
                    .where(WorkerHeartbeat.worker_id == self.worker_id)
                    .values(ticked_at=now)
                )

    def tick(self, now: datetime | None = None) -> datetime:
        """Run every job once; returns when the next tick should start."""
        now = now or utcnow()
        wake = now + timedelta(seconds=self.tick_seconds)
        for job in self.jobs:
            try:
                wanted = job(self.engine, now)
            except Exception:  # one failing job must not stop the others (or the heartbeat)
                log.exception("worker job %s failed", getattr(job, "__name__", job))
                continue
            if wanted is not None and wanted < wake:
                wake = wanted
        self.heartbeat(utcnow())
        return wake

    def run(self, stop: threading.Event) -> None:
        log.info("worker %s started (tick %.2fs)", self.worker_id, self.tick_seconds)
        try:
            while not stop.is_set():
                try:
                    wake = self.tick()
                except Exception:  # the database may be briefly unreachable: keep trying
                    log.exception("worker tick failed")
                    wake = utcnow() + timedelta(seconds=self.tick_seconds)
                stop.wait(max(0.0, (wake - utcnow()).total_seconds()))
        finally:
            self.retire()
            log.info("worker %s stopped", self.worker_id)

    def retire(self) -> None:
        """A clean stop removes the heartbeat; a crash leaves it to go stale (and /healthz says so)."""
        try:
            with unit_of_work(self.engine) as session:
                session.exec(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id))
        except Exception:
            log.exception("could not remove the heartbeat of %s", self.worker_id)


def start_in_thread(engine: Engine, *, tick_seconds: float) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    worker = Worker(engine, tick_seconds=tick_seconds)
    thread = threading.Thread(target=worker.run, args=(stop,), name="fieldline-worker", daemon=True)
    thread.start()
    return thread, stop
