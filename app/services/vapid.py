"""The VAPID key pair that identifies this Fieldline to browsers' push services."""
import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid


def load_or_create(private_key: str | None, instance_path: Path) -> Vapid:
    """VAPID_PRIVATE_KEY when set, else a key kept in the instance folder (made on first start)."""
    if private_key:
        return Vapid.from_string(private_key=private_key)
    path = instance_path / "vapid_private.pem"
    if not path.exists():
        fresh = Vapid()
        fresh.generate_keys()
        try:  # O_EXCL: when two processes start at once, the first key written wins
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(fresh.private_pem())
    return Vapid.from_file(str(path))


def application_server_key(vapid: Vapid) -> str:
    """The public key as browsers want it for pushManager.subscribe (base64url, no padding)."""
    raw = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
