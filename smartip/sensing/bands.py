"""Band colours of each air-quality scheme (pure; the names come from aqi.band_names).

Colours are the schemes' published palettes: EEA European AQI, UK DAQI (per band: low, moderate, high, very
high), US EPA AQI. ``text`` is a readable text colour on that background (contrast ≥ 4.5:1).
"""

from dataclasses import dataclass

from smartip.sensing import aqi

PALETTES: dict[str, tuple[str, ...]] = {
    "eaqi": ("#50f0e6", "#50ccaa", "#f0e641", "#ff5050", "#960032", "#7d2181"),
    "daqi": ("#31cf00", "#ffcf00", "#ff0000", "#ce30ff"),
    "usaqi": ("#00e400", "#ffff00", "#ff7e00", "#ff0000", "#8f3f97", "#7e0023"),
}
NO_DATA_COLOUR = "#9e9e9e"


@dataclass(frozen=True)
class Band:
    number: int
    name: str
    colour: str
    text: str


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``."""
    lum = _luminance(background)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def bands(scheme: str) -> tuple[Band, ...]:
    """The scheme's bands, band 1 first, with colours."""
    names = aqi.band_names(scheme)
    palette = PALETTES[scheme]
    return tuple(
        Band(i + 1, name, palette[i], text_colour(palette[i])) for i, name in enumerate(names[: len(palette)])
    )


def band(scheme: str, number: int | None) -> Band | None:
    """Band ``number`` (1-based) of ``scheme``, or None when there is no index."""
    if not number:
        return None
    all_bands = bands(scheme)
    return all_bands[min(number, len(all_bands)) - 1]
