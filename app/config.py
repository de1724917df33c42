"""Typed settings read from the environment.

Everything is optional for the embedded default (SQLite in the instance folder, generated secret
and VAPID keys). A value that is present but wrong stops the app at start-up with a clear message,
rather than running half-configured with people's safety depending on it.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """A setting in the environment is present but unusable."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _read_or_create_secret(path: Path, make) -> str:
    """A secret kept in the instance folder, created (mode 0600) the first time it is needed."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    return value


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    secret_key: str
    smtp_url: str | None
    mail_from: str
    vapid_private_key: str | None
    vapid_subject: str
    tick_seconds: float
    session_idle_minutes: int
    secure_cookies: bool
    ratelimit_storage_uri: str
    base_url: str | None
    expect_worker: bool
    proxy_count: int
    timezone: str
    sms_gateway_url: str | None
    sms_gateway_token: str | None
    push_timeout_seconds: float
    delivery_lease_seconds: int
    delivery_threads: int
    push_hosts: tuple[str, ...]
    push_allow_private: bool
    max_photos_per_contact: int = 5
    send_processes: int = 0
    photo_megapixels_per_request: int = 24
    smtp_timeout_seconds: float = 15.0
    sms_timeout_seconds: float = 15.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], default_instance: Path) -> "Settings":
        instance_path = Path(env.get("FIELDLINE_INSTANCE") or default_instance).resolve()
        instance_path.mkdir(parents=True, exist_ok=True)

        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'fieldline.db'}"
        if database_url.startswith("postgres://") or database_url.startswith("postgresql://"):
            # Heroku-style URLs: use psycopg 3, the driver Fieldline ships with.
            database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
        if not (database_url.startswith("sqlite") or database_url.startswith("postgresql+psycopg")):
            raise ConfigError(
                "DATABASE_URL must be sqlite:///path or postgresql+psycopg://user:pass@host/db"
            )

        secret_key = env.get("SECRET_KEY") or _read_or_create_secret(
            instance_path / "secret_key", lambda: secrets.token_urlsafe(48)
        )
        if len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long")

        smtp_url = env.get("SMTP_URL") or None
        if smtp_url and urlsplit(smtp_url).scheme not in {"smtp", "smtps"}:
            raise ConfigError("SMTP_URL must look like smtp://user:pass@host:port (or smtps://)")

        vapid_subject = env.get("VAPID_SUBJECT") or "mailto:safety@fieldline.invalid"
        if not (vapid_subject.startswith("mailto:") or vapid_subject.startswith("https://")):
            raise ConfigError("VAPID_SUBJECT must be a mailto: or https: URL")

        sms_gateway_url = env.get("SMS_GATEWAY_URL") or None
        if sms_gateway_url and urlsplit(sms_gateway_url).scheme not in {"http", "https"}:
            raise ConfigError("SMS_GATEWAY_URL must be an http(s) URL")

        base_url = (env.get("FIELDLINE_BASE_URL") or "").rstrip("/") or None
        production = env.get("FIELDLINE_ENV", "").lower() == "production"
        timezone = env.get("FIELDLINE_TIMEZONE") or "Europe/London"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"FIELDLINE_TIMEZONE must be an IANA zone like Europe/London, got {timezone!r}") from None

        if production and _bool(env, "FIELDLINE_PUSH_ALLOW_PRIVATE", False):
            raise ConfigError("FIELDLINE_PUSH_ALLOW_PRIVATE is for tests and development, not FIELDLINE_ENV=production")

        return cls(
            instance_path=instance_path,
            database_url=database_url,
            secret_key=secret_key,
            smtp_url=smtp_url,
            mail_from=env.get("MAIL_FROM") or "Fieldline <fieldline@localhost>",
            vapid_private_key=env.get("VAPID_PRIVATE_KEY") or None,
            vapid_subject=vapid_subject,
            tick_seconds=_float(env, "FIELDLINE_TICK_SECONDS", 1.0, 0.05, 60.0),
            session_idle_minutes=_int(env, "FIELDLINE_SESSION_IDLE_MINUTES", 8 * 60, 5, 7 * 24 * 60),
            secure_cookies=_bool(
                env,
                "FIELDLINE_SECURE_COOKIES",
                production or bool(base_url and base_url.startswith("https://")),
            ),
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI") or "memory://",
            base_url=base_url,
            expect_worker=_bool(env, "FIELDLINE_EXPECT_WORKER", False),
            proxy_count=_int(env, "FIELDLINE_PROXY_COUNT", 0, 0, 5),
            timezone=timezone,
            sms_gateway_url=sms_gateway_url,
            sms_gateway_token=env.get("SMS_GATEWAY_TOKEN") or None,
            push_timeout_seconds=_float(env, "FIELDLINE_PUSH_TIMEOUT", 10.0, 0.1, 120.0),
            delivery_lease_seconds=_int(env, "FIELDLINE_DELIVERY_LEASE_SECONDS", 60, 1, 3600),
            delivery_threads=_int(env, "FIELDLINE_DELIVERY_THREADS", 64, 1, 128),
            send_processes=_int(env, "FIELDLINE_SEND_PROCESSES", 2, 0, 8),
            # Push endpoints: hosts (or suffixes) of the push services accepted; empty: any public host.
            push_hosts=tuple(h.strip().lower() for h in env.get("FIELDLINE_PUSH_HOSTS", "").split(",") if h.strip()),
            # Also http and private addresses, for a push receiver on this machine: tests and development only.
            push_allow_private=_bool(env, "FIELDLINE_PUSH_ALLOW_PRIVATE", False),
            max_photos_per_contact=_int(env, "FIELDLINE_MAX_PHOTOS", 5, 1, 50),
            photo_megapixels_per_request=_int(env, "FIELDLINE_PHOTO_MEGAPIXELS", 24, 1, 400),
            smtp_timeout_seconds=_float(env, "FIELDLINE_SMTP_TIMEOUT", 15.0, 0.1, 120.0),
            sms_timeout_seconds=_float(env, "FIELDLINE_SMS_TIMEOUT", 15.0, 0.1, 120.0),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
