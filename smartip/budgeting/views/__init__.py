"""Participatory-budgeting pages. Each view parses a form, calls one service and renders; htmx requests
(HX-Request) get the page's `_partial.html`, everything else the whole page, and every form also works as a
plain POST without JavaScript. Domain errors become form errors on the named field, with the error's 4xx status.

Reads that no service offers (the page lists, vote tallies, explanation sentences) are small private helpers
here; every change goes through `smartip.budgeting.services`.
"""

from smartip.budgeting.views.ballot import ballot
from smartip.budgeting.views.common import money
from smartip.budgeting.views.process_admin import area_add, area_edit, area_remove, process_edit, process_new
from smartip.budgeting.views.public import (
    comment,
    comment_hide,
    delivery,
    milestone,
    process_detail,
    process_list,
    proposal_new,
    proposals,
    subscribe,
    support,
)
from smartip.budgeting.views.results import explain, results, rule_description
from smartip.budgeting.views.staff import (
    manage,
    manage_assisted,
    manage_census,
    manage_count,
    manage_merge,
    manage_phase,
    manage_review,
)

__all__ = [
    "area_add",
    "area_edit",
    "area_remove",
    "process_edit",
    "process_new",
    "ballot",
    "comment",
    "comment_hide",
    "delivery",
    "explain",
    "manage",
    "manage_assisted",
    "manage_census",
    "manage_count",
    "manage_merge",
    "manage_phase",
    "manage_review",
    "milestone",
    "money",
    "process_detail",
    "process_list",
    "proposal_new",
    "proposals",
    "results",
    "rule_description",
    "subscribe",
    "support",
]
