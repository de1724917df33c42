"""Photos from the doorstep: checked, de-identified, resized and stored outside any public URL.

Pillow verifies the file really is an image; a hard pixel limit refuses decompression bombs before
any pixel is decoded; the EXIF orientation is applied and then every piece of metadata (EXIF with
GPS, XMP, ICC, comments) is dropped by re-encoding only the pixels.

Decoding is the one slow step (about 30 ns a pixel here), and a web process decoding cannot answer
a check-in. So a request's photos are refused from their headers alone when there are too many or
they hold too many pixels together, and only one request on a machine decodes at a time (another
is told to try again), which leaves every other web process free for the alarm path.

Files are written under a temporary name and renamed into place only once the contact's row is
committed; the worker's sweep finishes or removes what a killed process left behind.
"""
from __future__ import annotations

import fcntl
import logging
import math
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Iterator

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import or_
from sqlmodel import Session, select

from app.services import ValidationError
from app.services.housekeeping import ThreadedJob

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
LONGEST_SIDE = 1600
THUMB_SIDE = 320
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
PENDING = ".pending"  # suffix of a file whose contact is not committed yet
SWEEP_AFTER = timedelta(minutes=10)  # far longer than any request may live (gunicorn kills at 30 s)


@dataclass(frozen=True)
class Limits:
    max_photos: int = 5
    # Pixels decoded for one request (a JPEG counts at the reduced size it is decoded at): 24
    # million is about 0.7 s of work here; five 12-megapixel phone photos need 15 million.
    pixels_per_request: int = 24_000_000


@dataclass
class StoredPhoto:
    stored_as: str
    thumb_stored_as: str
    width: int
    height: int
    size_bytes: int


class Busy(Exception):
    """Another request on this machine is decoding photos: this one should be sent again shortly."""


def _is_heic(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}


def _refuse(message: str) -> ValidationError:
    return ValidationError({"photos": message})


def _decode_size(image: Image.Image) -> tuple[int, int]:
    """Ask a JPEG to decode at the smallest scale (1/2, 1/4, 1/8) that still gives the stored size;
    returns the size that will really be decoded. Reads only the header."""
    scale = LONGEST_SIDE / max(image.size)
    if scale < 1:
        image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    return image.size


def _open(data: bytes) -> Image.Image:
    """Open one upload without decoding it; ValidationError if it can't be used."""
    if len(data) > MAX_BYTES:
        raise _refuse(f"That photo is larger than {MAX_BYTES // (1024 * 1024)} MB. Take a smaller one.")
    if _is_heic(data[:16]):
        raise _refuse("iPhone HEIC photos can't be used yet. On the iPhone, set Settings → Camera → Formats → "
                      "Most Compatible, or take the photo with the camera button here.")
    too_large = _refuse("That image is too large to process (over 40 megapixels).")
    try:
        with Image.open(BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise _refuse("That file isn't a photo Fieldline can use (JPEG, PNG, WebP or GIF).")
            if probe.width * probe.height > MAX_PIXELS:
                raise too_large
            probe.verify()  # structure check without decoding pixels
        return Image.open(BytesIO(data))
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse("That file isn't a photo Fieldline can use, or it is damaged.") from None


def check(uploads: list[bytes], limits: Limits) -> list[Image.Image]:
    """Every check that needs no decoding, for all of a request's photos at once: how many, how
    big, what kind, and how many pixels they would take to decode together."""
    if len(uploads) > limits.max_photos:
        raise _refuse(f"Add at most {limits.max_photos} photos to one contact (you chose {len(uploads)}).")
    images = [_open(data) for data in uploads]
    pixels = sum(width * height for width, height in map(_decode_size, images))
    if pixels > limits.pixels_per_request:
        raise _refuse("These photos are too large to process together. Send fewer at once, or smaller ones.")
    return images


@contextmanager
def decoding_slot(instance_path: Path) -> Iterator[None]:
    """Held while a request decodes; raises Busy at once when another request on this machine holds
    it (waiting would keep this web process from answering check-ins)."""
    with open(instance_path / "photo-decoding.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _save(image: Image.Image, path: Path, quality: int) -> None:
    with open(path, "xb") as out:
        image.save(out, "JPEG", quality=quality, optimize=True)


def store(image: Image.Image, folder: Path) -> StoredPhoto:
    """Decode, clean and write one checked photo under pending names (see keep)."""
    try:
        image.load()
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, SyntaxError, ValueError):
        raise _refuse("That file isn't a photo Fieldline can use, or it is damaged.") from None
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    # Only pixels survive: a fresh image carries no EXIF, GPS, XMP or ICC from the original.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    folder.mkdir(parents=True, exist_ok=True)
    stored = StoredPhoto(f"{secrets.token_hex(16)}.jpg", f"{secrets.token_hex(16)}.jpg", clean.width, clean.height, 0)
    try:
        _save(clean, folder / (stored.stored_as + PENDING), 82)
        thumb = clean.copy()
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
        _save(thumb, folder / (stored.thumb_stored_as + PENDING), 75)
    except BaseException:  # a full disk: no half-written file is left for the sweep
        discard([stored], folder)
        raise
    stored.size_bytes = (folder / (stored.stored_as + PENDING)).stat().st_size
    return stored


def _names(stored: list[StoredPhoto]) -> Iterator[str]:
    for photo in stored:
        yield photo.stored_as
        yield photo.thumb_stored_as


def keep(stored: list[StoredPhoto], folder: Path) -> None:
    """The contact is committed: its photos take their real names."""
    for name in _names(stored):
        os.replace(folder / (name + PENDING), folder / name)


def discard(stored: list[StoredPhoto], folder: Path) -> None:
    """Remove photos stored for a contact that was not saved after all."""
    for name in _names(stored):
        (folder / (name + PENDING)).unlink(missing_ok=True)
        (folder / name).unlink(missing_ok=True)


def uploads_folder(instance_path: Path) -> Path:
    return instance_path / "uploads"


def sweep(session: Session, folder: Path, now: datetime, older_than: timedelta = SWEEP_AFTER) -> int:
    """Finish or remove what a killed request left: a pending file whose row was committed takes its
    name, any other file older than `older_than` with no row goes. Returns how many were removed."""
    from app.models import Photo

    if not folder.is_dir():
        return 0
    cutoff = (now - older_than).timestamp()
    old = [entry for entry in os.scandir(folder)
           if entry.is_file() and _mtime(entry) < cutoff]
    removed = 0
    for start in range(0, len(old), 500):
        batch = old[start:start + 500]
        names = {entry.name.removesuffix(PENDING) for entry in batch}
        known = set()
        for row in session.exec(select(Photo.stored_as, Photo.thumb_stored_as).where(
                or_(Photo.stored_as.in_(names), Photo.thumb_stored_as.in_(names)))).all():
            known.update(row)
        for entry in batch:
            name = entry.name.removesuffix(PENDING)
            if name in known:
                if entry.name != name:
                    os.replace(entry.path, folder / name)
            else:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed


def _mtime(entry: os.DirEntry) -> float:
    try:
        return entry.stat().st_mtime
    except FileNotFoundError:  # removed meanwhile by another sweep or request
        return float("inf")


class SweepJob(ThreadedJob):
    """Worker job: sweep the uploads folder, at most once every `every` (it is housekeeping). The
    sweep lists the whole folder, so it runs in a thread of its own: the safety loop that calls this
    never waits for it."""
    name = "photo sweep"

    def __init__(self, folder: Path, every: timedelta = timedelta(minutes=5)):
        super().__init__(every)
        self.folder = folder

    def work(self, session: Session, now: datetime) -> None:
        sweep(session, self.folder, now)
