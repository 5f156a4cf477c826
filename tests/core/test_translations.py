"""The four city languages are complete and safe: every message in smartip/locale/<lang>/django.po is translated
and not fuzzy, placeholders and HTML tags survive translation, the compiled .mo matches the .po, and key pages
render in the visitor's language (the expected strings are read from the catalogue, never typed here)."""

import html
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCALE = REPO_ROOT / "smartip" / "locale"
LANGS = ["nl", "de", "it", "fi"]
CITY_FOR = {"nl": "ghent", "de": "cologne", "it": "bologna", "fi": "oulu"}
# python-format (%(name)s, %(n)d, %s), brace format ({name}) and HTML tags: all must reach the translation intact
TOKEN = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}|</?[a-zA-Z][^>]*>")


def _po(lang: str) -> polib.POFile:
    path = LOCALE / lang / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"{path} is missing: run scripts/i18n"
    return polib.pofile(str(path))


def _forms(entry: polib.POEntry) -> list[tuple[str, str, str]]:
    """(label, source, translation) for each form of an entry; plural forms pair msgstr[0] with msgid."""
    if not entry.msgid_plural:
        return [("msgstr", entry.msgid, entry.msgstr)]
    forms = sorted(entry.msgstr_plural.items())
    return [(f"msgstr[{i}]", entry.msgid if i == 0 else entry.msgid_plural, text) for i, text in forms]


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated_and_not_fuzzy(lang):
    po = _po(lang)
    assert len(po) > 0, f"{lang}: the catalogue is empty"
    missing = [e.msgid for e in po if not e.obsolete and any(not text for _, _, text in _forms(e))]
    fuzzy = [e.msgid for e in po if not e.obsolete and "fuzzy" in e.flags]
    assert not missing, f"{lang}: {len(missing)} of {len(po)} untranslated: " + "; ".join(map(repr, missing))
    assert not fuzzy, f"{lang}: {len(fuzzy)} fuzzy: " + "; ".join(map(repr, fuzzy))


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_and_tags_survive(lang):
    """Same placeholders and tags as the source. A singular form may drop the count (“There is a problem”)."""
    bad = []
    for entry in _po(lang):
        for label, source, text in _forms(entry):
            if not text:
                continue  # reported by the completeness test
            want, got = sorted(TOKEN.findall(source)), sorted(TOKEN.findall(text))
            if want != got:
                bad.append(f"{entry.msgid!r} {label}: expected {want}, found {got}")
    assert not bad, f"{lang}: {len(bad)} entries change placeholders or tags:\n" + "\n".join(bad)


@pytest.mark.parametrize("lang", LANGS)
def test_msgfmt_check_format_passes(lang, tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed (apt-get install gettext)")
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    run = subprocess.run(
        [msgfmt, "--check-format", "--check-header", "-o", str(tmp_path / "x.mo"), str(po)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, f"{lang}: msgfmt --check-format failed:\n{run.stderr}"


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_matches_the_po(lang):
    """The .mo Django loads holds exactly the .po's translations (catches a forgotten compilemessages)."""
    mo_path = LOCALE / lang / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), f"{mo_path} is missing: run scripts/i18n"
    po_map = {(e.msgctxt, e.msgid): e for e in _po(lang).translated_entries()}
    mo_map = {(e.msgctxt, e.msgid): e for e in polib.mofile(str(mo_path)) if e.msgid}
    stale = sorted(k[1] for k in po_map.keys() ^ mo_map.keys())
    changed = sorted(
        k[1]
        for k, e in po_map.items()
        if k in mo_map and (e.msgstr, e.msgstr_plural) != (mo_map[k].msgstr, mo_map[k].msgstr_plural)
    )
    assert not stale and not changed, (
        f"{lang}: .mo out of date (run scripts/i18n): {stale[:10]} {changed[:10]}"
    )


def _translation(lang: str, msgid: str) -> str:
    entry = _po(lang).find(msgid)
    assert entry is not None and entry.msgstr, f"{lang}: {msgid!r} is not in the catalogue"
    assert entry.msgstr != msgid, f"{lang}: {msgid!r} is 'translated' as itself"
    return entry.msgstr


PAGES = [
    (
        "/",
        ["Report a problem", "Potholes, litter, broken lights, fly-tipping, noise…", "See reports near you"],
    ),
    ("/reports/", ["Filter reports", "Clear filters", "Reports in %(city)s"]),
    (
        "/budgets/",
        [
            "Participatory budgets in %(city)s",
            "Residents propose how part of the city's budget is spent, and vote on it.",
        ],
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("url", "msgids"), PAGES, ids=[p[0] for p in PAGES])
def test_pages_render_in_the_visitors_language(cities, lang, url, msgids):
    assert lang in dict(settings.LANGUAGES), f"{lang} is not in settings.LANGUAGES"
    response = Client().get(url, {"city": CITY_FOR[lang]}, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200, f"{url} in {lang}: HTTP {response.status_code}"
    assert response.headers.get("Content-Language") == lang
    page = html.unescape(response.content.decode())
    assert f'<html lang="{lang}"' in page
    for msgid in msgids:
        text = _translation(lang, msgid) % {"city": cities[CITY_FOR[lang]].name}  # no-op without %(city)s
        assert text in page, f"{url} in {lang}: {text!r} (for {msgid!r}) not on the page"
    assert ">Report a problem<" not in page, f"{url} in {lang}: English navigation shown"


@pytest.mark.django_db
def test_english_stays_the_default(cities):
    """Without a language preference the site speaks English (the source language), not a translation."""
    page = Client().get("/", {"city": "manchester"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Report a problem" in page
    for lang in LANGS:
        assert _translation(lang, "Report a problem") not in page
