"""Participatory budgeting: processes and their phases, proposals, projects on the ballot, secret ballots,
outcomes of the counting rules, and delivery of funded projects."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartip.cities.models import City, Neighbourhood


class Phase(models.TextChoices):
    DRAFT = "draft", _("In preparation")
    PROPOSALS = "proposals", _("Proposals")
    REVIEW = "review", _("Review")
    VOTING = "voting", _("Voting")
    RESULTS = "results", _("Results")
    DELIVERY = "delivery", _("Delivery")


PHASE_ORDER = [p.value for p in Phase]


class BallotKind(models.TextChoices):
    APPROVAL_BUDGET = "approval_budget", _("Approve projects within the budget")
    APPROVAL_MINMAX = "approval_minmax", _("Approve between a minimum and a maximum number of projects")
    K_APPROVAL = "k_approval", _("Approve up to k projects")
    CUMULATIVE = "cumulative", _("Share out points")
    RANKING = "ranking", _("Rank your top k projects")


class Verification(models.TextChoices):
    ACCOUNT = "account", _("An account is enough")
    CODE_LETTER = "code_letter", _("Account and the code from a letter")
    CENSUS = "census", _("Account and a census check")


class ProcessQuerySet(models.QuerySet["Process"]):
    def for_city(self, city: City) -> "ProcessQuerySet":
        return self.filter(city=city)

    def public(self) -> "ProcessQuerySet":
        return self.exclude(phase=Phase.DRAFT)


class Process(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="pb_processes")
    slug = models.SlugField(max_length=120)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    district = models.ForeignKey(
        Neighbourhood,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("Only residents of this district may vote (empty: the whole city)"),
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, default=Phase.DRAFT)
    proposals_open = models.DateField(_("proposals open"), null=True, blank=True)
    review_open = models.DateField(_("review starts"), null=True, blank=True)
    voting_open = models.DateField(_("voting opens"), null=True, blank=True)
    voting_close = models.DateField(_("voting closes"), null=True, blank=True)
    results_on = models.DateField(_("results published"), null=True, blank=True)
    ballot_kind = models.CharField(
        _("ballot"), max_length=24, choices=BallotKind.choices, default=BallotKind.APPROVAL_BUDGET
    )
    min_projects = models.PositiveIntegerField(_("minimum projects"), default=0)
    max_projects = models.PositiveIntegerField(_("maximum projects (k)"), null=True, blank=True)
    total_points = models.PositiveIntegerField(_("points to share out"), null=True, blank=True)
    max_points_per_project = models.PositiveIntegerField(
        _("most points for one project"), null=True, blank=True
    )
    rule = models.CharField(_("counting rule"), max_length=32, default="mes-add1-greedy")
    verification = models.CharField(
        _("voter verification"), max_length=16, choices=Verification.choices, default=Verification.ACCOUNT
    )
    min_age = models.PositiveSmallIntegerField(_("minimum age"), default=0)
    source = models.CharField(
        max_length=200, blank=True, help_text=_("e.g. the pabulib file it was imported from")
    )
    pabulib_meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProcessQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["city", "slug"], name="process_slug_per_city")]
        verbose_name = _("budgeting process")
        verbose_name_plural = _("budgeting processes")

    def __str__(self) -> str:
        return self.title

    @property
    def total_budget(self) -> Decimal:
        return sum((area.budget for area in self.areas.all()), Decimal(0))


class BudgetArea(models.Model):
    """A pot of money counted on its own: the whole city, a district, or a category."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="areas")
    name = models.CharField(_("name"), max_length=200)
    district = models.ForeignKey(Neighbourhood, null=True, blank=True, on_delete=models.SET_NULL)
    category = models.CharField(_("category"), max_length=100, blank=True)
    budget = models.DecimalField(_("budget"), max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Proposal(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        FEASIBLE = "feasible", _("Feasible")
        NOT_FEASIBLE = "not_feasible", _("Not feasible")
        MERGED = "merged", _("Merged into another")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="proposals")
    area = models.ForeignKey(BudgetArea, on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000)
    category = models.CharField(_("category"), max_length=100, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    estimated_cost = models.DecimalField(_("estimated cost"), max_digits=16, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    review_reason = models.TextField(_("review reason"), blank=True)
    official_cost = models.DecimalField(
        _("official cost"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    supporters = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class ProposalCommentQuerySet(models.QuerySet["ProposalComment"]):
    def visible(self) -> "ProposalCommentQuerySet":
        """What the public sees: comments staff have not hidden."""
        return self.filter(is_hidden=False)


class ProposalComment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    text = models.TextField(max_length=2000)
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProposalCommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.proposal_id}"


class ProposalPhoto(models.Model):
    """A photo of a proposal, stored cleaned (no metadata) with a thumbnail; see smartip.core.uploads."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="budgeting/proposals/%Y/%m/")
    thumbnail = models.ImageField(upload_to="budgeting/proposals/thumbs/%Y/%m/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of proposal {self.proposal_id}"


class Project(models.Model):
    """A project on the ballot. `code` is its pabulib project_id (a string; ties are broken by it)."""

    class Delivery(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        PLANNING = "planning", _("Planning")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="projects")
    area = models.ForeignKey(BudgetArea, on_delete=models.CASCADE, related_name="projects")
    proposal = models.OneToOneField(Proposal, null=True, blank=True, on_delete=models.SET_NULL)
    code = models.CharField(max_length=64)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(max_length=200, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=16, decimal_places=2)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True, help_text=_("other pabulib columns, kept for export"))
    is_funded = models.BooleanField(default=False)
    delivery_status = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.NOT_STARTED)
    subscribers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["process", "code"], name="project_code_per_process")]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("update"), blank=True)
    due_on = models.DateField(_("due"), null=True, blank=True)
    done_on = models.DateField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class Ballot(models.Model):
    """A secret ballot. `voter_key` is a keyed hash of (process, voter): it lets a voter replace their ballot and
    prevents double votes, and nothing in the platform maps it back to a person."""

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        ASSISTED = "assisted", _("Entered by staff (paper or assisted)")
        IMPORTED = "imported", _("Imported")

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="ballots")
    area = models.ForeignKey(BudgetArea, on_delete=models.CASCADE, related_name="ballots")
    voter_key = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.ONLINE)
    extra = models.JSONField(default=dict, blank=True, help_text=_("anonymous pabulib columns (age band, …)"))
    cast_on = models.DateField(default=timezone.localdate)  # a day, not a time: times could re-identify

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "voter_key"], name="one_ballot_per_voter")]

    def __str__(self) -> str:
        return f"ballot {self.pk}"


class BallotEntry(models.Model):
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="entries")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    points = models.PositiveIntegerField(default=1)
    rank = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ballot", "project"], name="one_entry_per_project")]

    def __str__(self) -> str:
        return f"entry {self.pk}"


class CensusEntry(models.Model):
    """A resident on the census list of a process (verification = census / code letter, assisted voting)."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="census")
    code_hash = models.CharField(max_length=64)
    district = models.ForeignKey(Neighbourhood, null=True, blank=True, on_delete=models.SET_NULL)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    claimed = models.BooleanField(default=False)
    # the voter key (see services.voter_key) of whoever used the code first: the same voter may then vote in
    # each budget of the process open to them, and no one else may use the code; never shown or exported
    claimed_by = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "code_hash"], name="census_code_per_process")
        ]

    def __str__(self) -> str:
        return f"census entry {self.pk}"


class Outcome(models.Model):
    """The result of counting one area with one rule; `details` explains every project."""

    area = models.ForeignKey(BudgetArea, on_delete=models.CASCADE, related_name="outcomes")
    rule = models.CharField(max_length=40)
    selected_codes = models.JSONField(default=list)
    total_cost = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    details = models.JSONField(default=dict)
    n_ballots = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(default=0)
    is_official = models.BooleanField(default=False)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-computed_at"]
        constraints = [models.UniqueConstraint(fields=["area", "rule"], name="one_outcome_per_rule")]

    def __str__(self) -> str:
        return f"{self.rule} outcome for area {self.area_id}"


class ProcessAudit(models.Model):
    """Every process action (phase changes, reviews, assisted ballots, counts, exports). Never names a voter's choice."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40)
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} at {self.created_at:%Y-%m-%d %H:%M}"
