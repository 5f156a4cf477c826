"""Strict number parsing for pabulib cells (costs, budget, points, counts, META limits).

Accepted: plain decimals `12`, `4000.0`, `2458488.22`, and (for amounts, with a warning) a comma as the
decimal mark `1,5` like pabutools. Rejected with a reason: signs, exponents, NaN/inf, thousands
separators (`1 000`, `1.000,50`), anything else.
"""

import re

_DECIMAL = re.compile(r"(\d+)(?:\.(\d+))?")
_COMMA_DECIMAL = re.compile(r"(\d+),(\d+)")
_SIGNED = re.compile(r"-(\d+)(?:[.,]\d+)?")


class NumberProblem(ValueError):
    """The reason a cell is not an acceptable number (the caller adds line and field)."""


def _reason(text: str) -> str:
    lowered = text.lower()
    if not text:
        return "is missing"
    if _SIGNED.fullmatch(text):
        return f"{text!r} is negative"
    if lowered.lstrip("+-") in ("nan", "inf", "infinity"):
        return f"{text!r} is not a finite number"
    if re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?e[+-]?\d+", lowered):
        return f"{text!r} uses exponent notation; write the plain number"
    if re.fullmatch(r"\d{1,3}(?:[ .,\u00a0']\d{3})+(?:[.,]\d+)?", text):
        return f"{text!r} has a thousands separator; write the plain number"
    return f"{text!r} is not a number"


def _value(whole: str, fraction: str | None) -> int | float:
    if fraction is None or not fraction.strip("0"):
        return int(whole)
    return float(f"{whole}.{fraction}")


def parse_amount(text: str) -> tuple[int | float, bool]:
    """A non-negative amount (cost, budget); returns (value, comma_was_decimal_mark).

    The value is an int when it is integral (`4000.0` → 4000), else a float.
    """
    match = _DECIMAL.fullmatch(text)
    if match:
        return _value(match[1], match[2]), False
    match = _COMMA_DECIMAL.fullmatch(text)
    if match:
        return _value(match[1], match[2]), True
    raise NumberProblem(_reason(text))


def parse_count(text: str) -> int:
    """A non-negative integer (num_votes, min_length, points of cumulative ballots)."""
    if text.isascii() and text.isdigit():
        return int(text)
    match = _DECIMAL.fullmatch(text)
    if match and match[2] is not None:
        raise NumberProblem(f"{text!r} is not a whole number")
    raise NumberProblem(_reason(text))


def parse_score(text: str) -> int | float:
    """A score of a `scoring` ballot: a plain decimal, possibly negative."""
    negative = text.startswith("-")
    match = _DECIMAL.fullmatch(text[1:] if negative else text)
    if not match:
        raise NumberProblem(_reason(text) if not negative else f"{text!r} is not a number")
    value = _value(match[1], match[2])
    return -value if negative else value
