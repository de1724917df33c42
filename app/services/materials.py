"""Session materials: uploads checked by what they contain, never by their name or claimed type.

PDFs, Word and PowerPoint files (checked as real zip packages of the kind they claim) and images
(checked as the doorstep photos are, then re-encoded so no metadata such as GPS survives).
"""
from __future__ import annotations

import re
import zipfile
from datetime import datetime
from io import BytesIO

from PIL import ImageOps
from sqlmodel import Session, select

from app.models import ProgrammeMaterial, ProgrammeSession, User
from app.services import ValidationError, photos

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_SESSION = 10
OFFICE = {"word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
          "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx")}


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": message})


def _office(data: bytes) -> tuple[str, str] | None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    return next((kind for prefix, kind in OFFICE.items() if any(n.startswith(prefix) for n in names)), None)


def _image(data: bytes) -> bytes:
    image = photos.check([data], photos.Limits(max_photos=1))[0]
    try:
        image.load()
        clean = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, SyntaxError, ValueError):
        raise _refuse("That image is damaged.") from None
    clean.thumbnail((photos.LONGEST_SIDE, photos.LONGEST_SIDE))
    out = BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def checked(data: bytes, filename: str) -> tuple[bytes, str, str]:
    """(content to keep, content type, a safe file name); ValidationError keyed "file"."""
    if not data:
        raise _refuse("Choose a file to attach.")
    if len(data) > MAX_BYTES:
        raise _refuse(f"That file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    stem = re.sub(r"[^\w .-]+", "", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")
    stem = (stem.rsplit(".", 1)[0] if "." in stem else stem)[:150] or "material"
    if data.startswith(b"%PDF-"):
        return data, "application/pdf", stem + ".pdf"
    if data.startswith(b"PK\x03\x04"):
        kind = _office(data)
        if kind is None:
            raise _refuse("That zip file isn't a Word or PowerPoint document.")
        return data, kind[0], stem + kind[1]
    try:
        return _image(data), "image/jpeg", stem + ".jpg"
    except ValidationError:
        raise _refuse("Attach a PDF, a Word or PowerPoint file, or an image (JPEG, PNG, WebP or GIF).") from None


def attach(session: Session, by: User, planned: ProgrammeSession, data: bytes, filename: str, *,
           now: datetime) -> ProgrammeMaterial:
    if len(listed(session, [planned.id]).get(planned.id, [])) >= MAX_PER_SESSION:
        raise _refuse(f"A session has at most {MAX_PER_SESSION} files. Remove one first.")
    content, content_type, name = checked(data, filename)
    material = ProgrammeMaterial(programme_session_id=planned.id, filename=name, content_type=content_type,
                                 size_bytes=len(content), content=content, uploaded_by_id=by.id, created_at=now)
    session.add(material)
    session.flush()
    return material


def listed(session: Session, session_ids: list[int]) -> dict[int, list[tuple[int, str, int]]]:
    """(id, file name, size) per planned session, without loading any file's bytes."""
    found: dict[int, list[tuple[int, str, int]]] = {}
    if session_ids:
        for mid, sid, name, size in session.exec(
                select(ProgrammeMaterial.id, ProgrammeMaterial.programme_session_id, ProgrammeMaterial.filename,
                       ProgrammeMaterial.size_bytes)
                .where(ProgrammeMaterial.programme_session_id.in_(session_ids))
                .order_by(ProgrammeMaterial.id)).all():
            found.setdefault(sid, []).append((mid, name, size))
    return found
