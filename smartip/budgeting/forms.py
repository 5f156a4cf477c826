"""Page forms for participatory budgeting: they parse and convert input; the services decide what is allowed.

Every form works as a plain POST without JavaScript; htmx and the small ballot script only enhance them.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from smartip.budgeting.models import PHASE_ORDER, BallotKind, BudgetArea, Phase, Project, Proposal


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

    def __init__(self, *args: Any, areas: Sequence[BudgetArea], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas = {a.pk: a for a in areas}
        self.fields["area"].choices = [(a.pk, a.name) for a in areas]
        if len(areas) == 1:
            self.fields["area"].initial = areas[0].pk


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
        help_text=_("One code per line. Codes are stored only as keyed hashes."),
    )

    def code_rows(self) -> list[tuple[str, int | None, int | None]]:
        lines = (line.strip() for line in self.cleaned_data["codes"].splitlines())
        return [(line, None, None) for line in lines if line]


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
