"""Photo uploads shared by the domains that take them (reports, budgeting proposals).

Every upload is read within its size limit and checked and cleaned (metadata stripped, thumbnail made) by
`smartip.reports.photos` before the caller stores anything; `photo_files` names the stored files with a random
uuid, so a file name says nothing about who sent it or when.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile

from smartip.core.errors import Invalid, gettext_noop
from smartip.reports.photos import PreparedPhoto, prepare_photos


def read_upload(upload: Any, max_bytes: int, index: int) -> bytes:
    """The bytes of one upload (raw bytes or a Django file), refusing a declared size over the limit
    without reading it; at most `max_bytes + 1` bytes are read, so the checks below still see an oversize file."""
    if isinstance(upload, bytes | bytearray):
        return bytes(upload)
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise Invalid(
            gettext_noop("photo %(index)s: %(size)s bytes is over the limit of %(limit)s bytes"),
            field="photos",
            index=index,
            size=f"{size:,}",
            limit=f"{max_bytes:,}",
        )
    return bytes(upload.read(max_bytes + 1))


def prepare_uploads(
    uploads: Sequence[Any], *, max_count: int, max_bytes: int, too_many: str
) -> list[PreparedPhoto]:
    """Check every upload before any is stored. `too_many` is the caller's message template (with
    `%(maximum)s` and `%(sent)s`), raised as Invalid(field="photos") when more than `max_count` are sent."""
    if len(uploads) > max_count:
        raise Invalid(too_many, field="photos", maximum=max_count, sent=len(uploads))
    data = [read_upload(u, max_bytes, i) for i, u in enumerate(uploads, 1)]
    return prepare_photos(data, max_count=max_count, max_bytes=max_bytes)


def photo_files(photo: PreparedPhoto) -> dict[str, Any]:
    """Model field values for a stored photo: image and thumbnail under one random name, and the size."""
    name = uuid.uuid4().hex
    return {
        "image": ContentFile(photo.image, name=f"{name}.{photo.extension}"),
        "thumbnail": ContentFile(photo.thumbnail, name=f"{name}.jpg"),
        "width": photo.width,
        "height": photo.height,
    }
