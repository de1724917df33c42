"""A worker's sending processes: encrypting and sending alarms on the machine's other cores.

Raising an alert costs well under a millisecond of Python; encrypting, signing and sending its push
and its text costs more than twice that, and one process runs Python on one core at a time. So
`fieldline worker` watches the clocks itself (detection, escalation, reminders) and hands all
sending to FIELDLINE_SEND_PROCESSES child processes (`python -m app.senders`), each running the
ordinary delivery job: they share the outbox through the database exactly as several workers do
(leases, dedupe keys, one lane per channel), so no guarantee changes. After raising alerts the
worker writes a byte to each child's stdin to wake it at once; each child also ticks on its own
(retries, messages queued by the web processes). A child whose parent dies sees its stdin close
and stops (its claimed rows go back to the outbox; one mid-send is sent again when its lease ends);
a child that dies is started again at the parent's next tick.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


class SenderProcesses:
    """The children, as one of the worker's jobs: each tick makes sure they are all running."""

    def __init__(self, count: int, instance_path: Path):
        self.count = count
        self.command = [sys.executable, "-m", "app.senders"]
        # The children read the same settings; the instance folder (keys, files) as resolved here.
        self.env = {**os.environ, "FIELDLINE_INSTANCE": str(instance_path)}
        self.children: list[subprocess.Popen] = []
        self.lock = threading.Lock()
        self.__name__ = "senders"

    def __call__(self, _engine: Engine, _now: datetime) -> datetime | None:
        with self.lock:
            alive = [child for child in self.children if child.poll() is None]
            for child in self.children:
                if child.poll() is not None:
                    log.error("sending process %s stopped (exit %s): starting another", child.pid, child.returncode)
            while len(alive) < self.count:
                child = subprocess.Popen(self.command, stdin=subprocess.PIPE, env=self.env)
                os.set_blocking(child.stdin.fileno(), False)
                alive.append(child)
            self.children = alive
        return None

    def poke(self) -> None:
        """New deliveries are due: wake every child now (never blocks the worker)."""
        for child in list(self.children):
            try:
                os.write(child.stdin.fileno(), b"!")
            except (BlockingIOError, BrokenPipeError, OSError, ValueError):
                pass  # a full pipe already holds a wake-up; a dead child is restarted next tick

    def close(self, grace_seconds: float = 5.0) -> None:
        """A clean stop: each child hands its unsent rows back to the outbox and exits."""
        with self.lock:
            for child in self.children:
                child.terminate()
            for child in self.children:
                try:
                    child.wait(grace_seconds)
                except subprocess.TimeoutExpired:
                    child.kill()
                if child.stdin:
                    child.stdin.close()
            self.children = []


def listen_to_parent(poke, stop: threading.Event) -> threading.Thread:
    """In a child: each byte on stdin wakes the delivery job; end of input (the parent has gone,
    cleanly or not) stops the child."""
    def read() -> None:
        while True:
            try:
                data = os.read(sys.stdin.fileno(), 4096)
            except OSError:
                data = b""
            if not data:
                stop.set()
                return
            poke()

    thread = threading.Thread(target=read, name="fieldline-parent", daemon=True)
    thread.start()
    return thread


def main() -> None:
    """A sending child: the delivery job alone, without the web app (it starts in a fraction of
    the time), until its parent stops it or goes."""
    import signal

    from app import db
    from app.config import Settings
    from app.services import channels, delivery
    from app.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env(os.environ, default_instance=Path(os.environ.get("FIELDLINE_INSTANCE", "instance")))
    engine = db.make_engine(settings.database_url)
    delivery.register_channels(engine, channels.configured(settings))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole group: the parent stops us
    loop = Worker.for_settings(engine, settings, role="send")
    [job] = loop.jobs
    listen_to_parent(job.poke, stop)
    loop.run(stop)


if __name__ == "__main__":
    main()
