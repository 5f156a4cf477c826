"""Photos on proposals: stored cleaned (no EXIF, no GPS) with a thumbnail, through the form and the API; too many,
too large or not an image is refused on the field `photos` before anything is stored (no proposal row, no
file); thumbnails shown on the proposals page and, once the proposal is a project, on the process page."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from smartip.budgeting import services
from smartip.budgeting.models import Phase, ProcessAudit, Proposal, ProposalPhoto
from smartip.core.errors import Forbidden, Invalid
from tests.budgeting.factories import make_process

pytestmark = pytest.mark.django_db


def url(process, page=""):
    return f"/budgets/{process.city.slug}/{process.slug}/{page}"


def photos_api(process, proposal):
    return f"/api/budgeting/processes/{process.pk}/proposals/{proposal.pk}/photos"


def jpeg_with_gps(size=(640, 480), colour=(20, 120, 60)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (53.0, 28.0, 48.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (2.0, 14.0, 42.0),
    }
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def gps_of(data: bytes) -> dict:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo))


def upload(name="street.jpg", data=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, jpeg_with_gps() if data is None else data, content_type=content_type)


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _form(process, **extra):
    return {
        "title": "Trees on Oxford Road",
        "description": "Plant twenty trees along the road.",
        "area": str(process.areas.get().pk),
        "category": "",
        "estimated_cost": "250",
        "lat": "",
        "lon": "",
        **extra,
    }


def _submit(process, author, photos):
    return services.submit_proposal(
        process=process,
        author=author,
        area=process.areas.get(),
        title="Trees on Oxford Road",
        description="Plant twenty trees along the road.",
        estimated_cost=Decimal(250),
        photos=photos,
    )


@pytest.fixture
def process(manchester):
    return make_process(manchester, phase=Phase.PROPOSALS, costs=())


def test_the_fixture_photo_carries_gps():
    assert gps_of(jpeg_with_gps()), "without GPS in the input the stripping test would mean nothing"


# --- page ---------------------------------------------------------------------------------------------------


def test_proposal_form_is_multipart_with_a_labelled_photo_input(process, users, as_user):
    body = as_user(users["citizen"]).get(url(process, "proposals/new/")).content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert 'type="file" name="photos"' in body and 'accept="image/*"' in body and "multiple" in body
    assert '<label for="id_photos">' in body


def test_photos_through_the_form_are_stored_without_metadata(process, users, as_user, settings):
    client = as_user(users["citizen"])
    response = client.post(
        url(process, "proposals/new/"),
        _form(process, photos=[upload("my-street.jpg"), upload("my-house.jpg")]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal = Proposal.objects.get()
    photos = list(proposal.photos.all())
    assert len(photos) == 2
    for photo in photos:
        data = Path(photo.image.path).read_bytes()
        assert Path(photo.image.path).is_relative_to(settings.MEDIA_ROOT)
        assert not gps_of(data) and not dict(Image.open(io.BytesIO(data)).getexif())
        assert b"PhoneCo" not in data
        assert (photo.width, photo.height) == (640, 480)
        thumb = Image.open(photo.thumbnail.path)
        assert max(thumb.size) <= 320 and not dict(thumb.getexif())
        # random names: nothing of the sender's file name, a uuid for image and thumbnail alike
        assert re.fullmatch(r"[0-9a-f]{32}\.jpg", Path(photo.image.name).name)
        assert Path(photo.thumbnail.name).name == Path(photo.image.name).name
    audit = ProcessAudit.objects.get(action="proposal_submitted")
    assert audit.details == {"proposal": proposal.pk, "photos": 2}
    page = client.get(url(process, "proposals/")).content.decode()
    for n, photo in enumerate(photos, 1):
        assert f'<a href="{photo.image.url}"><img src="{photo.thumbnail.url}"' in page
        assert f'alt="Photo {n} of “Trees on Oxford Road” (opens the full size)"' in page


def test_a_proposal_without_photos_still_works(process, users, as_user, settings):
    response = as_user(users["citizen"]).post(url(process, "proposals/new/"), _form(process))
    assert response.status_code == 302
    assert Proposal.objects.get().photos.count() == 0 and stored_files(settings) == []


@pytest.mark.parametrize(
    "files,why",
    [
        ([SimpleUploadedFile("notes.jpg", b"this is not an image", "image/jpeg")], "not a readable JPEG"),
        ([SimpleUploadedFile("empty.png", b"", "image/png")], "The submitted file is empty."),
        ([upload(f"{i}.jpg") for i in range(6)], "At most 5 photos"),
    ],
    ids=["not-an-image", "empty", "too-many"],
)
def test_bad_photos_on_the_form_are_refused_and_nothing_is_stored(
    files, why, process, users, as_user, settings
):
    response = as_user(users["citizen"]).post(url(process, "proposals/new/"), _form(process, photos=files))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'href="#id_photos"' in body and why in body
    assert "Please choose your photos again" in body
    assert not Proposal.objects.exists() and not ProposalPhoto.objects.exists()
    assert stored_files(settings) == []


def test_a_photo_over_the_size_limit_is_refused_on_the_form(process, users, as_user, settings):
    settings.REPORT_PHOTO_MAX_BYTES = 1000
    big = upload("big.jpg", data=jpeg_with_gps(size=(800, 800)))
    assert big.size > 1000
    response = as_user(users["citizen"]).post(url(process, "proposals/new/"), _form(process, photos=[big]))
    assert response.status_code == 400
    assert "over the limit of 1,000 bytes" in response.content.decode()
    assert not Proposal.objects.exists() and stored_files(settings) == []


# --- service ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "photos,message",
    [
        ([b"GIF89a not really"], "photo 1: not a readable JPEG, PNG or WebP image (UnidentifiedImageError)"),
        ([jpeg_with_gps(), b"%PDF-1.4"], "photo 2: not a readable JPEG, PNG or WebP image"),
        ([jpeg_with_gps()] * 6, "at most 5 photos per proposal (6 sent)"),
    ],
    ids=["not-an-image", "second-is-bad", "too-many"],
)
def test_service_checks_every_photo_before_storing_anything(photos, message, process, users, settings):
    with pytest.raises(Invalid) as err:
        _submit(process, users["citizen"], photos)
    assert err.value.field == "photos" and err.value.message.startswith(message)
    assert (
        not Proposal.objects.exists()
        and not ProcessAudit.objects.filter(action="proposal_submitted").exists()
    )
    assert stored_files(settings) == []


def test_service_refuses_a_photo_over_the_byte_limit(process, users, settings):
    settings.REPORT_PHOTO_MAX_BYTES = 2000
    data = jpeg_with_gps(size=(900, 900))
    for given in (data, upload(data=data)):
        with pytest.raises(Invalid) as err:
            _submit(process, users["citizen"], [given])
        assert err.value.field == "photos" and "over the limit of 2,000 bytes" in err.value.message
    assert not Proposal.objects.exists() and stored_files(settings) == []


def test_count_limit_follows_the_report_photo_setting(process, users, settings):
    settings.REPORT_MAX_PHOTOS = 1
    with pytest.raises(Invalid) as err:
        _submit(process, users["citizen"], [jpeg_with_gps(), jpeg_with_gps()])
    assert err.value.message == "at most 1 photos per proposal (2 sent)"
    assert len(_submit(process, users["citizen"], [jpeg_with_gps()]).photos.all()) == 1


# --- API ----------------------------------------------------------------------------------------------------


def _login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def test_author_adds_photos_through_the_api(process, users, client, settings):
    proposal = _submit(process, users["citizen"], [])
    _login(client, users["citizen"])
    response = client.post(photos_api(process, proposal), {"photos": [upload("x.jpg"), upload("y.jpg")]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body) == 2 and {(p["width"], p["height"]) for p in body} == {(640, 480)}
    stored = ProposalPhoto.objects.get(pk=body[0]["id"])
    assert body[0]["url"] == stored.image.url and body[0]["thumbnail_url"] == stored.thumbnail.url
    assert not gps_of(Path(stored.image.path).read_bytes())
    listed = client.get(f"/api/budgeting/processes/{process.pk}/proposals").json()["items"][0]
    assert [p["id"] for p in listed["photos"]] == [p["id"] for p in body]
    assert ProcessAudit.objects.get(action="proposal_photos_added").details == {
        "proposal": proposal.pk,
        "photos": 2,
    }


def test_api_photo_refusals_say_why_and_store_nothing(process, users, client, settings):
    proposal = _submit(process, users["citizen"], [jpeg_with_gps()] * 4)
    before = sorted(stored_files(settings))
    path = photos_api(process, proposal)
    _login(client, None)
    assert client.post(path, {"photos": [upload()]}).status_code == 401
    _login(client, users["moderator"])
    other = client.post(path, {"photos": [upload()]})
    assert other.status_code == 403
    assert other.json()["error"]["message"] == "only the author may add photos to a proposal"
    _login(client, users["citizen"])
    too_many = client.post(path, {"photos": [upload("1.jpg"), upload("2.jpg")]})
    assert too_many.status_code == 400
    assert too_many.json()["error"] == {
        "code": "invalid",
        "field": "photos",
        "message": "a proposal has at most 5 photos (it has 4, 2 sent)",
    }
    bad = client.post(path, {"photos": [SimpleUploadedFile("x.jpg", b"nope", "image/jpeg")]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "photos"
    process.phase = Phase.REVIEW
    process.save()
    late = client.post(path, {"photos": [upload()]})
    assert (
        late.status_code == 403
        and late.json()["error"]["message"] == "proposals are not open in this process"
    )
    assert proposal.photos.count() == 4 and sorted(stored_files(settings)) == before


def test_service_photo_rules_without_the_api(process, users):
    proposal = _submit(process, users["citizen"], [])
    with pytest.raises(Invalid) as err:
        services.add_proposal_photos(proposal=proposal, user=users["citizen"], photos=[])
    assert err.value.field == "photos"
    with pytest.raises(Forbidden):
        services.add_proposal_photos(
            proposal=proposal, user=users["process_manager"], photos=[jpeg_with_gps()]
        )
    assert proposal.photos.count() == 0


# --- where the photos are shown -----------------------------------------------------------------------------


def test_project_from_a_proposal_shows_its_photos_on_the_process_page(process, users, as_user):
    proposal = _submit(process, users["citizen"], [jpeg_with_gps()])
    services.review_proposal(proposal=proposal, by=users["process_manager"], feasible=True)
    photo = proposal.photos.get()
    body = as_user(None).get(url(process)).content.decode()
    assert "Photos of the projects" in body
    assert f'<a href="{photo.image.url}"><img src="{photo.thumbnail.url}"' in body
    assert 'alt="Photo 1 of “Trees on Oxford Road” (opens the full size)"' in body


def test_process_page_without_proposal_photos_has_no_photo_section(process, users, as_user):
    proposal = _submit(process, users["citizen"], [])
    services.review_proposal(proposal=proposal, by=users["process_manager"], feasible=True)
    assert "Photos of the projects" not in as_user(None).get(url(process)).content.decode()


def test_proposals_page_query_count_does_not_grow_with_photos(
    process, users, as_user, django_assert_max_num_queries
):
    _submit(process, users["citizen"], [jpeg_with_gps()])
    client = as_user(users["citizen"])
    with django_assert_max_num_queries(20) as few:
        client.get(url(process, "proposals/"))
    for _ in range(3):
        _submit(process, users["citizen"], [jpeg_with_gps(), jpeg_with_gps()])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(process, "proposals/")).status_code == 200
