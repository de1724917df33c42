"""A worker's sending processes: encrypting and sending alarms on the machine's other cores.

Raising an alert costs well under a millisecond of Python; encrypting, signing and sending its push
and its text costs more than twice that, and one process runs Python on one core at a time. So
`fieldline worker` watches the clocks itself (detection, escalation, reminders) and hands all
sending to FIELDLINE_SEND_PROCESSES child processes (forked at its start; `python -m app.senders`
for one started later), each running the ordinary delivery job: they share the outbox through the database exactly as several workers do
(leases, dedupe keys, one lane per channel), so no guarantee changes. After raising alerts the
worker writes a byte to each child's pipe to wake it at once; each child also ticks on its own
(retries, messages queued by the web processes). A child whose parent dies sees its pipe close
and stops (its claimed rows go back to the outbox; one mid-send is sent again when its lease ends);
a child that dies is started again at the parent's next tick.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


class _Child:
    """One sending child, and the pipe whose bytes wake it (its end of input stops it)."""

    def __init__(self, process, wake_fd: int):
        self.process = process  # a forked multiprocessing.Process, or a subprocess.Popen
        self.wake_fd = wake_fd
        self.pid = process.pid

    def exit_code(self) -> int | None:
        if isinstance(self.process, subprocess.Popen):
            return self.process.poll()
        return None if self.process.is_alive() else self.process.exitcode

    def terminate(self) -> None:
        self.process.terminate()

    def wait(self, seconds: float) -> None:
        if isinstance(self.process, subprocess.Popen):
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(seconds)
        else:
            self.process.join(seconds)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(seconds)
        # A started child's pipe belongs to its Popen (closing the bare number as well would close
        # it twice, the second time perhaps under a descriptor reused by then); a forked one's is ours.
        if isinstance(self.process, subprocess.Popen):
            self.process.stdin.close()
        else:
            try:
                os.close(self.wake_fd)
            except OSError:
                pass


class SenderProcesses:
    """The children, as one of the worker's jobs: each tick makes sure they are all running.

    They are forked from the worker itself while it has no other thread (always at its start):
    they have everything imported already and send within milliseconds of the worker's start,
    which is when a burst falls due (after an outage or a deploy). Once the worker runs threads
    of its own, a replacement is started afresh (`python -m app.senders`): forking a process
    that runs threads is not safe."""

    def __init__(self, count: int, instance_path: Path):
        self.count = count
        self.command = [sys.executable, "-m", "app.senders"]
        # The children read the same settings; the instance folder (keys, files) as resolved here.
        self.env = {**os.environ, "FIELDLINE_INSTANCE": str(instance_path)}
        self.children: list[_Child] = []
        self.lock = threading.Lock()
        self.__name__ = "senders"

    def __call__(self, _engine: Engine, _now: datetime) -> datetime | None:
        with self.lock:
            alive = []
            for child in self.children:
                code = child.exit_code()
                if code is None:
                    alive.append(child)
                else:
                    log.error("sending process %s stopped (exit %s): starting another", child.pid, code)
                    child.wait(0)
            while len(alive) < self.count:
                alive.append(self._fork(alive) if threading.active_count() == 1 else self._start())
            self.children = alive
        return None

    def _start(self) -> _Child:
        child = subprocess.Popen(self.command, stdin=subprocess.PIPE, env=self.env)
        os.set_blocking(child.stdin.fileno(), False)
        return _Child(child, child.stdin.fileno())

    def _fork(self, siblings: list[_Child]) -> _Child:
        read_fd, write_fd = os.pipe()
        others = [write_fd, *(sibling.wake_fd for sibling in siblings)]
        # daemon: at a clean exit the worker stops it rather than waiting on it.
        process = multiprocessing.get_context("fork").Process(
            target=_forked, args=(self.env, read_fd, others), name="fieldline-sender", daemon=True)
        process.start()
        os.close(read_fd)
        os.set_blocking(write_fd, False)
        return _Child(process, write_fd)

    def poke(self) -> None:
        """New deliveries are due: wake every child now (never blocks the worker)."""
        for child in list(self.children):
            try:
                os.write(child.wake_fd, b"!")
            except (BlockingIOError, BrokenPipeError, OSError, ValueError):
                pass  # a full pipe already holds a wake-up; a dead child is restarted next tick

    def close(self, grace_seconds: float = 5.0) -> None:
        """A clean stop: each child hands its unsent rows back to the outbox and exits."""
        with self.lock:
            for child in self.children:
                child.terminate()
            for child in self.children:
                child.wait(grace_seconds)
            self.children = []


def _forked(env: dict, wake_fd: int, parents_ends: list[int]) -> None:
    """In a forked child: leave the worker's pipes to the worker, then send with connections of
    its own. (The worker's pooled connections are never touched here: still referenced from the
    worker's frames, they are not even closed before the child's os._exit.)"""
    for fd in parents_ends:  # only the worker may hold a write end, or its death would go unseen
        os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    serve(wake_fd)


def listen_to_parent(poke, stop: threading.Event, wake_fd: int) -> threading.Thread:
    """In a child: each byte from the worker wakes the delivery job; end of input (the worker has
    gone, cleanly or not) stops the child."""
    def read() -> None:
        while True:
            try:
                data = os.read(wake_fd, 4096)
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
    """A sending child started afresh: the delivery job alone, without the web app (it starts in
    a fraction of the time), woken through its standard input."""
    serve(sys.stdin.fileno())


def serve(wake_fd: int) -> None:
    """A sending child's life: the delivery job, until its parent stops it or goes."""
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
    listen_to_parent(job.poke, stop, wake_fd)
    loop.run(stop)


if __name__ == "__main__":
    main()
