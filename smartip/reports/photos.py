"""Photo checks and clean-up, pure (Pillow only, no Django): real JPEG/PNG/WebP by content, metadata stripped.

`prepare_photo` decodes the whole image, so a truncated or disguised file is refused before anything is stored.
Re-encoding from the pixels drops every EXIF/XMP/IPTC block, GPS included; the EXIF orientation is applied
to the pixels first so the photo still shows the right way up.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from smartip.core.errors import Invalid, gettext_noop

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 50_000_000
THUMBNAIL_PX = 320


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to store: cleaned image and thumbnail bytes, with the file extension to use."""

    image: bytes
    thumbnail: bytes
    extension: str
    width: int
    height: int


def _open_checked(data: bytes, where: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise Invalid(
                    gettext_noop("%(where)s: %(format)s is not allowed; send JPEG, PNG or WebP"),
                    field="photos",
                    where=where,
                    format=fmt or "unknown",
                )
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid(
                    gettext_noop("%(where)s: the image is too large (%(width)s×%(height)s pixels)"),
                    field="photos",
                    where=where,
                    width=probe.width,
                    height=probe.height,
                )
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except Invalid:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise Invalid(
            gettext_noop("%(where)s: not a readable JPEG, PNG or WebP image (%(error)s)"),
            field="photos",
            where=where,
            error=exc.__class__.__name__,
        ) from None
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        image.save(buf, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        image.save(buf, "PNG", optimize=True)
    else:
        image.save(buf, "WEBP", quality=85)
    return buf.getvalue()


def _clean_copy(image: Image.Image, fmt: str) -> Image.Image:
    """Pixels only: orientation applied, no metadata carried over."""
    upright = ImageOps.exif_transpose(image) or image
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif upright.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
    clean = Image.new(upright.mode, upright.size)
    if upright.mode == "P":
        palette = upright.getpalette()
        if palette:
            clean.putpalette(palette)
    clean.paste(upright)
    return clean


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.convert("RGBA") if image.mode in ("P", "LA") else image.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    if thumb.mode == "RGBA":
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    buf = io.BytesIO()
    thumb.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def prepare_photo(data: bytes, *, max_bytes: int, where: str = "photo 1") -> PreparedPhoto:
    """Check one upload and return its cleaned form; raises Invalid(field="photos") saying what is wrong."""
    if not data:
        raise Invalid(gettext_noop("%(where)s: the file is empty"), field="photos", where=where)
    if len(data) > max_bytes:
        raise Invalid(
            gettext_noop("%(where)s: %(size)s bytes is over the limit of %(limit)s bytes"),
            field="photos",
            where=where,
            size=f"{len(data):,}",
            limit=f"{max_bytes:,}",
        )
    image = _open_checked(data, where)
    fmt = str(image.format)
    clean = _clean_copy(image, fmt)
    return PreparedPhoto(
        image=_encode(clean, fmt),
        thumbnail=_thumbnail(clean),
        extension=ALLOWED_FORMATS[fmt],
        width=clean.width,
        height=clean.height,
    )


def prepare_photos(files: list[bytes], *, max_count: int, max_bytes: int) -> list[PreparedPhoto]:
    """All photos of one report, all checked before any is stored."""
    if len(files) > max_count:
        raise Invalid(
            gettext_noop("at most %(maximum)s photos per report (%(sent)s sent)"),
            field="photos",
            maximum=max_count,
            sent=len(files),
        )
    return [prepare_photo(data, max_bytes=max_bytes, where=f"photo {i}") for i, data in enumerate(files, 1)]
