"""Page forms for participatory budgeting: they parse and convert input; the services decide what is allowed.

Every form works as a plain POST without JavaScript; htmx and the small ballot script only enhance them.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from smartip.budgeting import census
from smartip.budgeting.models import (
    PHASE_ORDER,
    BallotKind,
    BudgetArea,
    Phase,
    Process,
    Project,
    Proposal,
    Verification,
)
from smartip.budgeting.process_admin import BALLOT_FIELDS, DATE_FIELDS, ELIGIBILITY_FIELDS, FROZEN_FIELDS
from smartip.cities.models import Neighbourhood
from smartip.reports.forms import MultipleFileField, MultipleFileInput


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What should be done, where, and who benefits (10 to 5000 characters)."),
    )
    area = forms.TypedChoiceField(label=_("Budget"), coerce=int)
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    estimated_cost = forms.DecimalField(
        label=_("Estimated cost"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    lat = forms.FloatField(
        label=_("Latitude"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        help_text=_("Optional. Put a pin on the map, or type it (e.g. 53.4794)."),
    )
    lon = forms.FloatField(
        label=_("Longitude"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        help_text=_("Optional (e.g. -2.2453)."),
    )

    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        max_files=settings.REPORT_MAX_PHOTOS,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args: Any, areas: Sequence[BudgetArea], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["photos"].help_text = _(
            "Optional: up to %(n)s photos (JPEG, PNG or WebP). Location data in them is removed."
        ) % {"n": settings.REPORT_MAX_PHOTOS}
        self.areas = {a.pk: a for a in areas}
        self.fields["area"].choices = [(a.pk, a.name) for a in areas]
        if len(areas) == 1:
            self.fields["area"].initial = areas[0].pk


class CommentForm(forms.Form):
    """One per proposal on the proposals page (prefix `c<proposal id>`, so labels and ids stay unique)."""

    text = forms.CharField(
        label=_("Your comment"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        help_text=_("2 to 2000 characters. Comments are public."),
    )


class BallotForm(forms.Form):
    """The ballot of one area. Inputs by ballot kind:

    - approval kinds: checkboxes `project` (value = project id);
    - cumulative: number inputs `points_<project id>`;
    - ranking: selects `rank_1` … `rank_k` (value = project id; empty = no choice at that place).

    `choices()` returns the (project id, value) pairs the service validates (over budget, too many, …).
    """

    census_code = forms.CharField(
        label=_("Code from your letter or the census list"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def __init__(
        self, *args: Any, kind: str, projects: Sequence[Project], needs_code: bool, slots: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind, self.projects, self.slots = kind, list(projects), slots
        ids = [(str(p.pk), p.title) for p in self.projects]
        if not needs_code:
            del self.fields["census_code"]
        if kind == BallotKind.CUMULATIVE:
            for p in self.projects:
                self.fields[f"points_{p.pk}"] = forms.IntegerField(
                    label=p.title, required=False, min_value=0, widget=forms.NumberInput(attrs={"min": 0})
                )
        elif kind == BallotKind.RANKING:
            for place in range(1, slots + 1):
                self.fields[f"rank_{place}"] = forms.TypedChoiceField(
                    label=_("Choice %(n)d") % {"n": place},
                    choices=[("", _("(none)")), *ids],
                    coerce=int,
                    required=False,
                    empty_value=None,
                )
        else:
            self.fields["project"] = forms.TypedMultipleChoiceField(
                label=_("Projects"),
                choices=ids,
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )

    def choices(self) -> list[tuple[int, int]]:
        data = self.cleaned_data
        if self.kind == BallotKind.CUMULATIVE:
            return [(p.pk, data[f"points_{p.pk}"]) for p in self.projects if data.get(f"points_{p.pk}")]
        if self.kind == BallotKind.RANKING:
            picked = [data.get(f"rank_{place}") for place in range(1, self.slots + 1)]
            return [(pid, place) for place, pid in enumerate((p for p in picked if p), start=1)]
        return [(pid, 1) for pid in data.get("project", [])]


class AssistedBallotForm(BallotForm):
    """Staff enter a paper ballot: the census code is always required."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["needs_code"] = True
        super().__init__(*args, **kwargs)
        self.fields["census_code"].required = True
        self.fields["census_code"].label = _("The voter's census code")


class PhaseForm(forms.Form):
    phase = forms.ChoiceField(label=_("Phase"), choices=[(p, Phase(p).label) for p in PHASE_ORDER])


class ReviewForm(forms.Form):
    feasible = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Feasible")), ("no", _("Not feasible"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    official_cost = forms.DecimalField(
        label=_("Official cost"),
        max_digits=16,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the proposer's estimate."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the proposal is not feasible; shown to the public."),
    )


class MergeForm(forms.Form):
    into = forms.TypedChoiceField(label=_("Duplicate of"), coerce=int)

    def __init__(self, *args: Any, proposals: Sequence[Proposal], exclude: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["into"].choices = [
            ("", _("Choose a proposal…")),
            *((p.pk, f"#{p.pk} {p.title}") for p in proposals if p.pk != exclude),
        ]


class CensusForm(forms.Form):
    codes = forms.CharField(
        label=_("Census codes"),
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "One code per line, or CODE;DISTRICT;BIRTH_YEAR (the district by name or code, the year with 4 "
            "digits). Codes are stored only as keyed hashes."
        ),
    )

    def code_rows(self, process: Process) -> list[tuple[str, int | None, int | None]]:
        """(code, district id, birth year) per line; a bad line raises Invalid naming it (nothing is stored)."""
        return census.resolve(process, census.rows_from_text(self.cleaned_data["codes"]))


class CountForm(forms.Form):
    rule = forms.ChoiceField(label=_("Counting rule"))
    area = forms.TypedChoiceField(label=_("Budget"), coerce=int)
    official = forms.BooleanField(
        label=_("Make this the official result (marks the funded projects)"), required=False
    )

    def __init__(
        self, *args: Any, rules: Sequence[tuple[str, str]], areas: Sequence[BudgetArea], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = list(rules)
        self.fields["area"].choices = [(a.pk, a.name) for a in areas]


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=200)
    text = forms.CharField(label=_("Update"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_on = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    done_on = forms.DateField(label=_("Done"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(
        label=_("Delivery status"),
        required=False,
        choices=[("", _("(unchanged)")), *Project.Delivery.choices],
    )


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _count_field(label: str, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
    )


class ProcessForm(forms.Form):
    """A process's settings (new or edit). Once voting has opened, what voters saw is shown but disabled:
    Django then ignores any posted value for it. The services decide what is valid."""

    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Web address"),
        max_length=120,
        required=False,
        help_text=_("The last part of the address, e.g. parks-2027. Empty: made from the title."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    budget = forms.DecimalField(
        label=_("Total budget"),
        max_digits=16,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
        help_text=_(
            "One budget for the whole city (or the district). You can add budgets per district or "
            "category afterwards."
        ),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR", help_text=_("e.g. EUR"))
    proposals_open = _date_field(_("Proposals open"))
    review_open = _date_field(_("Review starts"))
    voting_open = _date_field(_("Voting opens"))
    voting_close = _date_field(_("Voting closes"))
    results_on = _date_field(_("Results published"))
    ballot_kind = forms.ChoiceField(label=_("Ballot"), choices=BallotKind.choices)
    min_projects = _count_field(_("Minimum number of projects"), _("Empty or 0: no minimum."))
    max_projects = _count_field(_("Maximum number of projects (k)"), _("Needed for “Approve up to k”."))
    total_points = _count_field(_("Points to share out"), _("Only for cumulative ballots."))
    max_points_per_project = _count_field(_("Most points for one project"), _("Only for cumulative ballots."))
    rule = forms.ChoiceField(label=_("Counting rule"))
    verification = forms.ChoiceField(label=_("Voter verification"), choices=Verification.choices)
    district = forms.TypedChoiceField(
        label=_("District"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Only residents of this district may vote. Needs the census list or code letters."),
    )
    min_age = _count_field(_("Minimum age"), _("Needs the census list or code letters."))

    SECTIONS = (
        (_("About"), ("title", "slug", "description", "budget", "currency")),
        (_("Phases and dates"), DATE_FIELDS),
        (_("Ballot and counting"), (*BALLOT_FIELDS, "rule")),
        (_("Who may vote"), ELIGIBILITY_FIELDS),
    )

    def __init__(
        self,
        *args: Any,
        rules: Sequence[tuple[str, str]],
        districts: Sequence[Neighbourhood],
        new: bool,
        frozen: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.districts, self.frozen = {d.pk: d for d in districts}, frozen
        self.fields["rule"].choices = list(rules)
        self.fields["district"].choices = [("", _("(the whole city)")), *((d.pk, d.name) for d in districts)]
        if not districts:  # a city without districts on file: nothing to choose
            del self.fields["district"]
        if not new:
            del self.fields["budget"]
        for name in FROZEN_FIELDS if frozen else ():
            if name in self.fields:
                self.fields[name].disabled = True

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (legend, [self[name] for name in names if name in self.fields]) for legend, names in self.SECTIONS
        ]

    def settings(self) -> dict[str, Any]:
        """The changed settings as service keywords (disabled fields left out; the district as an object)."""
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "budget" and not self.fields[name].disabled
        }
        if "district" in data:
            data["district"] = self.districts.get(data["district"] or 0)
        return data


class AreaForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("e.g. the district or the theme."))
    budget = forms.DecimalField(
        label=_("Budget"),
        max_digits=16,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    district = forms.TypedChoiceField(label=_("District"), coerce=int, required=False, empty_value=None)
    category = forms.CharField(label=_("Category"), max_length=100, required=False)

    def __init__(self, *args: Any, districts: Sequence[Neighbourhood], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.districts = {d.pk: d for d in districts}
        self.fields["district"].choices = [("", _("(none)")), *((d.pk, d.name) for d in districts)]
        if not districts:  # a city without districts on file: nothing to choose
            del self.fields["district"]

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["district"] = self.districts.get(data.get("district") or 0)
        return data
