"""The worker's delivery job: one lane per channel, so a slow or hung channel delays only itself.

A lane is a bounded set of claimed rows and a few sending threads of its own. The worker's tick
only tops the lanes up (one claim per channel, limited by the room that channel has) and returns
at once: detection and escalation never wait for a send. A recorder thread writes each outcome as
soon as its send finishes and refills a lane that still has a backlog. Guarantees are those of the
outbox (app/services/delivery.py): a row is leased while it is ours, a send starts only if the
lease is still ours (renewed if the row waited long in its lane), and a row whose sender died is
sent again when its lease expires.
"""
from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import unit_of_work
from app.models import Delivery
from app.models.types import utcnow
from app.services import channels
from app.services import delivery as outbox

log = logging.getLogger(__name__)
_STOP = object()
_FILL = object()  # put in the recorder's queue by poke(): new rows are due, claim them now
ROUTINE, URGENT, LAST = 1, 0, 2  # a lane's queue order: safety first, then the rest, then a stop


# ---- a claim's lease, from the worker's side ----

def _ours(item: outbox.Outgoing, owner: str):
    return and_(Delivery.id == item.id, outbox.still_sending(Delivery.status), Delivery.lease_owner == owner,
                Delivery.attempts == item.attempts)


def renew_if_old(engine: Engine, item: outbox.Outgoing, *, owner: str, lease: timedelta, now: datetime) -> bool:
    """Just before sending: is this claim still ours? A row that waited in its lane for half its
    lease gets a fresh one, so nobody else sends it while we do; False if it is no longer ours."""
    if item.claimed_at is not None and now - item.claimed_at < lease / 2:
        return True
    with unit_of_work(engine) as session:
        renewed = session.execute(update(Delivery).where(_ours(item, owner)).values(lease_until=now + lease)
                                  .execution_options(synchronize_session=False)).rowcount
    return renewed == 1


def release(engine: Engine, items: list[outbox.Outgoing], *, owner: str) -> None:
    """Hand back claimed rows that were never tried (a clean stop), due at once for any worker."""
    with unit_of_work(engine) as session:
        for item in items:
            session.execute(update(Delivery).where(_ours(item, owner)).values(
                status="pending", lease_owner=None, lease_until=None, attempts=Delivery.attempts - 1,
            ).execution_options(synchronize_session=False))


def due_channels(engine: Engine, now: datetime) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(Delivery.channel).where(outbox._due(now)).distinct()).all())


# How long a row for a channel this worker lacks is left for a worker that has it set up.
UNCONFIGURED_GRACE = timedelta(minutes=10)


def skip_unconfigured(engine: Engine, names: list[str], *, now: datetime) -> int:
    """Rows for a channel this worker has not set up (queued before it was removed, or by a process
    configured differently) are not tried and are not failures: once they have waited long enough
    for another worker that has the channel to send them, they are marked skipped."""
    waiting = and_(Delivery.channel.in_(names), outbox._due(now),  # pending, or leased by a worker that died
                   Delivery.created_at < now - UNCONFIGURED_GRACE)
    with unit_of_work(engine) as session:
        return session.execute(update(Delivery).where(waiting).values(
            status="skipped", last_error="this channel is not set up", lease_owner=None, lease_until=None,
        ).execution_options(synchronize_session=False)).rowcount


@dataclass
class Lane:
    channel: str
    threads: int
    limit: int  # rows claimed and not yet sent: what this channel can take at once
    # (order, sequence, item): a safety message waiting in the lane is sent before routine ones
    # claimed earlier; the sequence keeps claim order within each and never compares items.
    work: queue.PriorityQueue = field(default_factory=queue.PriorityQueue)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fill_lock: threading.Lock = field(default_factory=threading.Lock)
    sequence: itertools.count = field(default_factory=itertools.count)
    in_flight: int = 0
    running: int = 0  # sending threads started: all of them at the first claim, and they stay
    backlog: bool = False  # the last claim filled the room: more may be due

    @property
    def room(self) -> int:
        return self.limit - self.in_flight

    def put(self, order: int, item) -> None:
        self.work.put((order, next(self.sequence), item))


class DeliveryJob:
    """Call it each tick: it claims what each channel has room for, hands it to that channel's
    threads and returns when the loop should next wake, without waiting for any send."""

    def __init__(self, config: channels.ChannelConfig, *, owner: str, lease_seconds: int, threads: int,
                 in_flight_per_thread: int = 25):
        self.config = config
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)
        self.configured = channels.configured(config)
        # Push first: each tick tops up the lanes in this order, and the push carries the alarm.
        self.lanes = {name: Lane(name, threads, threads * in_flight_per_thread)
                      for name in channels.CHANNELS if name in self.configured}
        self.unconfigured = [name for name in channels.CHANNELS if name not in self.configured]
        self.outcomes: queue.SimpleQueue = queue.SimpleQueue()
        self.engine: Engine | None = None
        self.recorder: threading.Thread | None = None
        self.recording = 0  # outcomes handed to the recorder and not yet written
        self.count_lock = threading.Lock()
        self.closed = False
        self.__name__ = "deliver"

    # ---- the tick ----

    def __call__(self, engine: Engine, now: datetime) -> datetime | None:
        self._start(engine)
        due = due_channels(engine, now)  # a read: an idle tick takes no write lock
        if due & set(self.unconfigured):
            skip_unconfigured(engine, self.unconfigured, now=now)
        for name, lane in self.lanes.items():
            if name in due:
                self._fill(lane)
        return self.next_wake(engine)

    def poke(self) -> None:
        """New rows are due (the safety job has just raised alerts): the recorder thread claims
        them at once, so the first alarms of a burst leave while later ones are still being raised."""
        self.outcomes.put(_FILL)

    def next_wake(self, engine: Engine) -> datetime | None:
        """The next due moment among channels with room; a full lane is refilled by its own sends."""
        open_lanes = [name for name, lane in self.lanes.items() if lane.room > 0]
        if not open_lanes:
            return None
        return outbox.next_due(engine, None if len(open_lanes) == len(channels.CHANNELS) else open_lanes)

    def _start(self, engine: Engine) -> None:
        if self.recorder is None:
            self.engine = engine
            self.recorder = threading.Thread(target=self._record_loop, name="fieldline-record", daemon=True)
            self.recorder.start()

    def _fill(self, lane: Lane) -> None:
        if self.closed:
            return
        with lane.fill_lock:  # the tick and the recorder may both top up a lane
            room = lane.room
            # A lane full of routine messages still takes safety ones (up to one more per thread,
            # and they go to the front of its queue): an alarm never waits for a reminder batch.
            urgent_only = room <= 0
            limit = lane.limit + lane.threads - lane.in_flight if urgent_only else room
            if limit <= 0:
                return
            claimed_at = utcnow()
            ids = outbox.claim(self.engine, now=claimed_at, owner=self.owner, lease=self.lease, limit=limit,
                               channel=lane.channel, urgent_only=urgent_only)
            if not urgent_only:
                lane.backlog = len(ids) == room
            if not ids:
                return
            items = outbox.load(self.engine, ids)
            with lane.lock:
                lane.in_flight += len(items)
                for item in items:
                    item.claimed_at = claimed_at
                    lane.put(URGENT if item.urgent else ROUTINE, item)
                # The lane's threads start with its first work and stay for the life of the job:
                # no thread ever ends while work could be waiting for it.
                spawn, lane.running = lane.threads - lane.running, lane.threads
            for _ in range(spawn):
                threading.Thread(target=self._send_loop, args=(lane,), name=f"fieldline-{lane.channel}",
                                 daemon=True).start()

    # ---- a lane's sending threads ----

    def _send_loop(self, lane: Lane) -> None:
        while True:
            _order, _sequence, item = lane.work.get()
            if item is _STOP:
                return
            result = self._send(item)
            with self.count_lock:  # counted as recording before it stops counting as in flight
                self.recording += result is not None
            with lane.lock:
                lane.in_flight -= 1
            if result is not None:
                self.outcomes.put((item, result))

    def _send(self, item: outbox.Outgoing) -> channels.SendResult | None:
        """Send if the row is still ours; None when it is not (closed, or re-leased elsewhere)."""
        try:
            if self.closed:
                release(self.engine, [item], owner=self.owner)
                return None
            if not renew_if_old(self.engine, item, owner=self.owner, lease=self.lease, now=utcnow()):
                return None
            return outbox._send(self.config, item)
        except Exception as error:  # a bug in one send must not stop its lane
            log.exception("sending delivery %s failed", item.id)
            return channels.SendResult(channels.RETRY, f"unexpected error ({type(error).__name__})")

    # ---- the recorder ----

    def _record_loop(self) -> None:
        while True:
            first = self.outcomes.get()
            if first is _STOP:
                return
            batch = [first]
            while True:  # whatever else finished meanwhile goes in the same transaction
                try:
                    batch.append(self.outcomes.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in batch
            poked = _FILL in batch
            batch = [entry for entry in batch if entry is not _STOP and entry is not _FILL]
            try:
                if batch:
                    outbox.record(self.engine, batch, now=utcnow(), owner=self.owner)
            except Exception:  # the rows stay leased: they are sent again when the lease runs out
                log.exception("could not record %d delivery outcomes", len(batch))
            if not stop:
                for lane in self.lanes.values():
                    if poked or (lane.backlog and lane.room * 2 >= lane.limit):
                        try:
                            self._fill(lane)
                        except Exception:
                            log.exception("could not top up the %s lane", lane.channel)
            with self.count_lock:  # after the top-up, so drain() never sees a gap between the two
                self.recording -= len(batch)
            if stop:
                return

    # ---- for tests, benchmarks and a clean stop ----

    def busy(self) -> bool:
        return any(lane.in_flight for lane in self.lanes.values()) or self.recording > 0

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every claimed row has been sent and recorded (not used by the worker loop)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.busy():
                return True
            time.sleep(0.005)
        return False

    def close(self, grace_seconds: float = 3.0) -> None:
        """Stop taking work: rows not yet started go back to the outbox at once (for any worker);
        sends in flight get a short grace to finish and be recorded, then their leases cover them."""
        self.closed = True
        for lane in self.lanes.values():
            waiting = []
            while True:
                try:
                    _order, _sequence, item = lane.work.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    waiting.append(item)
            if waiting and self.engine is not None:
                try:
                    release(self.engine, waiting, owner=self.owner)
                except Exception:
                    log.exception("could not release %d unsent deliveries", len(waiting))
            with lane.lock:
                lane.in_flight -= len(waiting)
                for _ in range(lane.running):
                    lane.put(LAST, _STOP)
        self.drain(grace_seconds)
        if self.recorder is not None:
            self.outcomes.put(_STOP)
            self.recorder.join(grace_seconds)
