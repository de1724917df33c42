"""Photos from the doorstep: checked, de-identified, resized and stored outside any public URL.

Pillow verifies the file really is an image; a hard pixel limit refuses decompression bombs before
any pixel is decoded; the EXIF orientation is applied and then every piece of metadata (EXIF with
GPS, XMP, ICC, comments) is dropped by re-encoding only the pixels.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from app.services import ValidationError

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
LONGEST_SIDE = 1600
THUMB_SIDE = 320
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


@dataclass
class StoredPhoto:
    stored_as: str
    thumb_stored_as: str
    width: int
    height: int
    size_bytes: int


def _is_heic(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}


def _refuse(message: str) -> ValidationError:
    return ValidationError({"photos": message})


def process(data: bytes, folder: Path) -> StoredPhoto:
    """Check, clean and store one upload; raises ValidationError with a message for the worker."""
    if len(data) > MAX_BYTES:
        raise _refuse(f"That photo is larger than {MAX_BYTES // (1024 * 1024)} MB. Take a smaller one.")
    if _is_heic(data[:16]):
        raise _refuse("iPhone HEIC photos can't be used yet. On the iPhone, set Settings → Camera → Formats → "
                      "Most Compatible, or take the photo with the camera button here.")
    try:
        with Image.open(BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise _refuse("That file isn't a photo Fieldline can use (JPEG, PNG, WebP or GIF).")
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse("That image is too large to process (over 40 megapixels).")
            probe.verify()  # structure check without decoding pixels
        with Image.open(BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise _refuse("That image is too large to process (over 40 megapixels).") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse("That file isn't a photo Fieldline can use, or it is damaged.") from None
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    # Only pixels survive: a fresh image carries no EXIF, GPS, XMP or ICC from the original.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    folder.mkdir(parents=True, exist_ok=True)
    name, thumb_name = f"{secrets.token_hex(16)}.jpg", f"{secrets.token_hex(16)}.jpg"
    clean.save(folder / name, "JPEG", quality=82, optimize=True)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    thumb.save(folder / thumb_name, "JPEG", quality=75, optimize=True)
    return StoredPhoto(name, thumb_name, clean.width, clean.height, (folder / name).stat().st_size)


def discard(stored: list[StoredPhoto], folder: Path) -> None:
    """Remove photos stored for a contact that was not saved after all."""
    for photo in stored:
        for name in (photo.stored_as, photo.thumb_stored_as):
            (folder / name).unlink(missing_ok=True)


def uploads_folder(instance_path: Path) -> Path:
    return instance_path / "uploads"
