"""Domain errors are English templates filled with parameters, shown in the reader's language.

The expected translations are read from the catalogue through gettext, never typed here.
"""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from smartip.core.errors import Conflict, Invalid, NotFound, gettext_noop

OVER_BUDGET = "your choices cost %(spent)s, more than the budget of %(budget)s"


def test_str_is_english_and_filled_for_logs():
    exc = Invalid(gettext_noop(OVER_BUDGET), field="choices", spent=1200, budget=1000)
    with translation.override("de"):
        assert str(exc) == "your choices cost 1200, more than the budget of 1000"
    assert exc.field == "choices" and exc.as_dict()["field"] == "choices"


@pytest.mark.parametrize("lang", ["nl", "de", "it", "fi"])
def test_message_is_translated_when_read(lang):
    exc = Invalid(gettext_noop(OVER_BUDGET), field="choices", spent=1200, budget=1000)
    with translation.override(lang):
        expected = gettext(OVER_BUDGET) % {"spent": 1200, "budget": 1000}
        assert exc.message == expected and exc.as_dict()["message"] == expected
    assert expected != str(exc), f"{lang}: the message is not translated"
    assert "1200" in expected and "1000" in expected


def test_the_language_is_that_of_the_reader_not_of_the_raiser():
    with translation.override("it"):
        exc = NotFound(gettext_noop("no such process"), field="process")
    with translation.override("fi"):
        assert exc.message == gettext("no such process") != "no such process"
    with translation.override("en"):
        assert exc.message == "no such process"  # English is the source language


def test_messages_without_parameters_keep_percent_signs_and_unknown_text():
    assert Invalid("100% is not a share").message == "100% is not a share"
    assert Conflict().message == "Conflict"  # no message: the class name
