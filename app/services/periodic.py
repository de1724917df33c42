"""What the worker's slower jobs share: running at most once every `every`.

The worker ticks about once a second (app/worker.py); reminders, notices and housekeeping need
far less often than that.
"""
from __future__ import annotations

from datetime import datetime, timedelta


class Periodic:
    def __init__(self, every: timedelta):
        self.every = every
        self.last_run: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True at most once every `every` (the first time at once), and marks this run."""
        if self.last_run is not None and now - self.last_run < self.every:
            return False
        self.last_run = now
        return True
