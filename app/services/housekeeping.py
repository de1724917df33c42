"""Housekeeping worker jobs that run in a thread of their own.

Listing the uploads folder or deleting a day's expired records can take long; the safety loop
that calls every job must never wait for them. Such a job runs at most once every `every`, in its
own thread, never twice at once in one process, and a failure is logged and tried again next time.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.services.periodic import Periodic

log = logging.getLogger(__name__)


class ThreadedJob(Periodic):
    name = "housekeeping"  # for the thread and the log
    wait_seconds = 30.0

    def __init__(self, every: timedelta):
        super().__init__(every)
        self.running: threading.Thread | None = None

    def __call__(self, engine: Engine, now: datetime) -> None:
        if self.running is not None and self.running.is_alive():
            return
        if self.due(now):
            self.running = threading.Thread(target=self._run, args=(engine, now),
                                            name=f"fieldline-{self.name.replace(' ', '-')}", daemon=True)
            self.running.start()

    def _run(self, engine: Engine, now: datetime) -> None:
        try:
            with Session(engine) as session:
                self.work(session, now)
        except Exception:  # housekeeping: try again next time
            log.exception("%s failed", self.name)

    def work(self, session: Session, now: datetime) -> None:
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> None:
        """For tests: let a run in progress finish."""
        if self.running is not None:
            self.running.join(timeout or self.wait_seconds)
