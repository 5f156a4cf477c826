"""pabulib import/export of whole processes: exact round trips, and malformed files import nothing."""

import random
from pathlib import Path

import pytest

from smartip.budgeting.io import export_pabulib, import_pabulib
from smartip.budgeting.models import Ballot, BallotEntry, Process, Project
from smartip.budgeting.pabulib import PabulibError, loads, read_pb
from tests.conftest import shared_path

pytestmark = pytest.mark.django_db

MALFORMED = Path(__file__).parent / "malformed"


def _sample_files() -> list[Path]:
    folder = shared_path("data", "pabulib")
    files = sorted(p for p in folder.glob("*.pb") if p.stat().st_size < 400_000)
    by_type: dict[str, list[Path]] = {}
    for path in files:
        head = path.read_text(encoding="utf-8-sig")[:3000]
        kind = next(
            (k for k in ("cumulative", "ordinal", "choose-1", "approval") if f"vote_type;{k}" in head), ""
        )
        by_type.setdefault(kind, []).append(path)
    rng = random.Random(7)
    return [p for kind in sorted(by_type) for p in rng.sample(by_type[kind], min(3, len(by_type[kind])))]


def test_round_trip_is_exact_for_every_ballot_type(manchester):
    files = _sample_files()
    assert len(files) >= 8
    for path in files:
        process = import_pabulib(path=path, city=manchester)
        exported = export_pabulib(process=process)
        # cell for cell (a literal `None` cell reads as missing and is written empty)
        assert loads(exported) == read_pb(path), path.name


def test_platform_ballots_export_without_personal_data(manchester, users):
    path = _sample_files()[0]
    process = import_pabulib(path=path, city=manchester)
    ballot = Ballot.objects.filter(process=process).first()
    ballot.extra = {}
    ballot.channel = Ballot.Channel.ONLINE
    ballot.save()
    text = export_pabulib(process=process)
    for user in users.values():
        if user is not None:
            assert user.username not in text and user.email not in text
    assert ballot.voter_key not in text


@pytest.mark.parametrize("path", sorted(MALFORMED.glob("*.pb")), ids=lambda p: p.name)
def test_malformed_file_imports_nothing(manchester, path):
    with pytest.raises(PabulibError, match=r"line \d+"):
        import_pabulib(path=path, city=manchester)
    assert (
        Process.objects.count(),
        Project.objects.count(),
        Ballot.objects.count(),
        BallotEntry.objects.count(),
    ) == (0, 0, 0, 0)
