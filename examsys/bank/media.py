"""Images in question text, stored by content hash in the instance folder.

The same image uploaded twice is stored once; a stored file never changes (its name is
its hash), so it can be cached forever. Only raster formats recognised by their first
bytes are accepted: SVG can carry script, and a file's name or declared type proves
nothing.
"""

import hashlib
import os
import re
from pathlib import Path

from examsys.core.errors import Invalid
from examsys.core.i18n import _

MAX_BYTES = 2 * 1024 * 1024
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF87a", "gif"),
              (b"GIF89a", "gif"))
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif",
                 "webp": "image/webp"}
NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|gif|webp)$")


def kind_of(data: bytes) -> str | None:
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def store(folder: Path, data: bytes) -> str:
    """Store an image; return its file name (``<sha256>.<ext>``)."""
    if len(data) > MAX_BYTES:
        raise Invalid(_("The image is larger than 2 MiB."), code="too_large", status=413)
    kind = kind_of(data)
    if kind is None:
        raise Invalid(_("Upload a PNG, JPEG, GIF or WebP image."), code="invalid_image")
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        # Write then rename, so a reader never sees half a file.
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        tmp.replace(path)
    return name


def path_of(folder: Path, name: str) -> Path | None:
    if not NAME.match(name):
        return None
    path = folder / name
    return path if path.is_file() else None
