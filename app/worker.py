"""The background loop that watches the clocks: escalate, deliver, remind.

Each tick runs every job, writes a heartbeat (read by /healthz), then sleeps until the earliest
moment any job asked to be woken (capped at the tick period), so work leaves within a fraction of
a second of falling due instead of waiting out a fixed sleep. No job waits on the network: the
delivery job hands sends to each channel's own threads, so detection and escalation run on time
however slow a provider is. Any number of workers may run at once: jobs coordinate only through
the database.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable, Iterable

from sqlalchemy.engine import Engine
from sqlmodel import delete, update

from app.db import unit_of_work
from app.models import WorkerHeartbeat
from app.models.types import utcnow

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from app.services.channels import ChannelConfig

# A job does its own transactions and returns when it next wants to run (None: no opinion).
Job = Callable[[Engine, datetime], "datetime | None"]


def channel_config(settings) -> "ChannelConfig":
    from app.services import push_subscriptions, vapid
    from app.services.channels import ChannelConfig

    return ChannelConfig(
        vapid=vapid.load_or_create(settings.vapid_private_key, settings.instance_path),
        vapid_subject=settings.vapid_subject,
        push_timeout=settings.push_timeout_seconds,
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
        sms_gateway_url=settings.sms_gateway_url,
        sms_gateway_token=settings.sms_gateway_token,
        base_url=settings.base_url,
        push_rule=push_subscriptions.rule_from(settings),
        smtp_timeout=settings.smtp_timeout_seconds,
        sms_timeout=settings.sms_timeout_seconds,
    )


def jobs_for(settings, worker_id: str, *, role: str = "all") -> list[Job]:
    """The jobs a worker runs, in order: what is due is detected before it is delivered.

    role "all": everything in this process (the embedded default, or FIELDLINE_SEND_PROCESSES=0);
    "watch": everything but sending, which FIELDLINE_SEND_PROCESSES child processes do
    (app/senders.py); "send": only sending (such a child)."""
    from app.services.delivery_job import DeliveryJob

    if role in ("send", "all"):
        delivery = DeliveryJob(channel_config(settings), owner=worker_id, lease_seconds=settings.delivery_lease_seconds,
                               threads=settings.delivery_threads)
        if role == "send":
            return [delivery]
    else:
        from app.senders import SenderProcesses

        channel_config(settings)  # makes the push keys, if need be, before the children read them
        delivery = SenderProcesses(settings.send_processes, settings.instance_path)

    from app.services import photos
    from app.services.appointment_reminders import ReminderJob
    from app.services.compliance_board import ComplianceJob
    from app.services.escalation import safety_job
    from app.services.idempotency import PurgeJob
    from app.services.referrals import FollowUpJob
    from app.services.retention import RetentionJob
    from app.services.figures import SnapshotJob
    from app.services.rota import GapNoticeJob
    from app.services.rota_handover import handover_job

    def safety(engine: Engine, now: datetime) -> datetime | None:
        return safety_job(engine, now, on_raised=delivery.poke)

    # A child process takes a moment to start: the watching worker starts its senders first.
    first = [safety, handover_job, delivery] if role == "all" else [delivery, safety, handover_job]
    return [
        *first,
        ReminderJob(settings.zone),
        ComplianceJob(settings.zone),
        FollowUpJob(),
        GapNoticeJob(settings.zone),
        SnapshotJob(settings.zone),
        PurgeJob(),
        photos.SweepJob(photos.uploads_folder(settings.instance_path)),
        RetentionJob(photos.uploads_folder(settings.instance_path)),
    ]


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(self, engine: Engine, *, jobs: Iterable[Job], tick_seconds: float = 1.0,
                 worker_id: str | None = None, heartbeat: bool = True):
        self.engine = engine
        self.tick_seconds = tick_seconds
        self.jobs = list(jobs)
        self.worker_id = worker_id or new_worker_id()
        self._registered = False
        # A sending child writes none: /healthz reads heartbeats as "the clocks are watched".
        self.beats = heartbeat

    @classmethod
    def for_settings(cls, engine: Engine, settings, *, role: str = "all") -> "Worker":
        """role: see jobs_for ("watch" for `fieldline worker`, "send" for its sending children)."""
        worker_id = new_worker_id()
        return cls(engine, jobs=jobs_for(settings, worker_id, role=role), tick_seconds=settings.tick_seconds,
                   worker_id=worker_id, heartbeat=role != "send")

    def heartbeat(self, now: datetime) -> None:
        if not self.beats:
            return
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
            for job in self.jobs:  # e.g. deliveries claimed but not started go back to the outbox
                close = getattr(job, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:
                        log.exception("could not close worker job %s", getattr(job, "__name__", job))
            self.retire()
            log.info("worker %s stopped", self.worker_id)

    def retire(self) -> None:
        """A clean stop removes the heartbeat; a crash leaves it to go stale (and /healthz says so)."""
        if not self.beats:
            return
        try:
            with unit_of_work(self.engine) as session:
                session.exec(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id))
        except Exception:
            log.exception("could not remove the heartbeat of %s", self.worker_id)


def start_in_thread(engine: Engine, settings) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    worker = Worker.for_settings(engine, settings)
    thread = threading.Thread(target=worker.run, args=(stop,), name="fieldline-worker", daemon=True)
    thread.start()
    return thread, stop
