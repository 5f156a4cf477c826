"""Photo checks: real JPEG/PNG/WebP only, every metadata block (GPS included) gone, orientation kept.
Pillow itself is the oracle that the input carried GPS and the output does not."""

import io

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from smartip.core.errors import Invalid
from smartip.reports.photos import THUMBNAIL_PX, prepare_photo, prepare_photos

MB = 1024 * 1024


def exif_with_gps(orientation=1):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (53.0, 28.0, 48.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (2.0, 14.0, 42.0),
    }
    return exif


def encoded(fmt, size=(80, 40), **kwargs):
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, fmt, **kwargs)
    return buf.getvalue()


def gps_of(data):
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_and_exif_are_stripped(fmt):
    data = encoded(fmt, exif=exif_with_gps())
    assert gps_of(data), "the fixture must carry GPS for this test to mean anything"
    photo = prepare_photo(data, max_bytes=MB)
    out = Image.open(io.BytesIO(photo.image))
    assert out.format == fmt and not gps_of(photo.image) and not dict(out.getexif())
    assert "exif" not in out.info and b"PhoneCo" not in photo.image
    assert not gps_of(photo.thumbnail)


def test_png_text_chunks_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address: 1 Deansgate")
    photo = prepare_photo(encoded("PNG", pnginfo=info), max_bytes=MB)
    assert b"Deansgate" not in photo.image


def test_orientation_is_applied_to_the_pixels():
    photo = prepare_photo(encoded("JPEG", size=(80, 40), exif=exif_with_gps(orientation=6)), max_bytes=MB)
    assert (photo.width, photo.height) == (40, 80)


def test_thumbnail_is_small_jpeg():
    photo = prepare_photo(encoded("PNG", size=(1200, 900)), max_bytes=MB)
    thumb = Image.open(io.BytesIO(photo.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) == THUMBNAIL_PX


def test_rgba_png_keeps_alpha_and_thumbnail_flattens():
    buf = io.BytesIO()
    Image.new("RGBA", (30, 30), (255, 0, 0, 0)).save(buf, "PNG")
    photo = prepare_photo(buf.getvalue(), max_bytes=MB)
    assert Image.open(io.BytesIO(photo.image)).mode == "RGBA"
    assert Image.open(io.BytesIO(photo.thumbnail)).getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 40, "not a readable"),
        (encoded("GIF"), "GIF is not allowed"),
        (encoded("BMP"), "BMP is not allowed"),
        (encoded("JPEG", size=(400, 300))[:500], "not a readable"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a readable"),
    ],
)
def test_non_images_are_refused(data, message):
    with pytest.raises(Invalid) as info:
        prepare_photo(data, max_bytes=MB)
    assert message in info.value.message and info.value.field == "photos"


def test_size_and_count_limits():
    data = encoded("JPEG")
    with pytest.raises(Invalid, match="over the limit"):
        prepare_photo(data, max_bytes=len(data) - 1)
    assert prepare_photo(data, max_bytes=len(data)).width == 80
    with pytest.raises(Invalid, match="at most 2"):
        prepare_photos([data] * 3, max_count=2, max_bytes=MB)
    with pytest.raises(Invalid, match="photo 2"):
        prepare_photos([data, b"junk"], max_count=2, max_bytes=MB)
