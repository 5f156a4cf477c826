"""Comments on proposals: who may comment and when (pages and API alike), length limits with the field named,
staff hiding a comment (and no one else), hidden comments gone from every public view, every action audited."""

from decimal import Decimal

import pytest

from smartip.budgeting import services
from smartip.budgeting.models import Phase, ProcessAudit, Proposal, ProposalComment
from smartip.core.errors import Forbidden, Invalid
from tests.budgeting.factories import make_process
from tests.factories import make_user

pytestmark = pytest.mark.django_db

J = "application/json"
HTMX = {"HTTP_HX_REQUEST": "true"}
OPEN_PHASES = (Phase.PROPOSALS, Phase.REVIEW)
CLOSED_PHASES = (Phase.VOTING, Phase.RESULTS, Phase.DELIVERY)


def url(process, page=""):
    return f"/budgets/{process.city.slug}/{process.slug}/{page}"


def api(process, proposal, tail=""):
    return f"/api/budgeting/processes/{process.pk}/proposals/{proposal.pk}/comments{tail}"


def text(response):
    return response.content.decode()


def _proposal(process, author, title="Benches by the canal"):
    return Proposal.objects.create(
        process=process,
        area=process.areas.get(),
        author=author,
        title=title,
        description="Six benches along the towpath.",
        estimated_cost=Decimal(100),
    )


@pytest.fixture
def setup(users, manchester):
    process = make_process(manchester, phase=Phase.PROPOSALS, costs=())
    return process, _proposal(process, users["moderator"])


@pytest.fixture
def outsider(cities):
    return make_user("ghent_resident", city=cities["ghent"], role="citizen")


# --- service ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", OPEN_PHASES)
def test_residents_comment_while_proposals_are_collected_and_reviewed(phase, setup, users):
    process, proposal = setup
    process.phase = phase
    process.save()
    comment = services.comment_on_proposal(proposal=proposal, user=users["citizen"], text="  Yes, please!  ")
    assert comment.text == "Yes, please!" and comment.author == users["citizen"] and not comment.is_hidden
    audit = ProcessAudit.objects.get(process=process, action="comment_added")
    assert audit.actor == users["citizen"]
    assert audit.details == {"proposal": proposal.pk, "comment": comment.pk}


def test_an_account_registered_in_the_city_without_a_role_may_comment(setup, manchester):
    process, proposal = setup
    resident = make_user("new_resident", home_city=manchester)
    assert services.comment_on_proposal(proposal=proposal, user=resident, text="Good idea").pk


@pytest.mark.parametrize("phase", CLOSED_PHASES)
def test_comments_are_refused_outside_proposals_and_review(phase, setup, users):
    process, proposal = setup
    process.phase = phase
    process.save()
    with pytest.raises(Forbidden) as err:
        services.comment_on_proposal(proposal=proposal, user=users["citizen"], text="Too late?")
    assert "collected and reviewed" in err.value.message
    assert not ProposalComment.objects.exists()


def test_people_of_another_city_cannot_comment(setup, outsider):
    _, proposal = setup
    with pytest.raises(Forbidden) as err:
        services.comment_on_proposal(proposal=proposal, user=outsider, text="Hello from Ghent")
    assert err.value.message == "only people registered in Manchester can comment"
    assert not ProposalComment.objects.exists()


@pytest.mark.parametrize("given", ["", "   ", "a", " a ", "a" * 2001, " " + "b" * 2001])
def test_comment_length_is_checked_on_the_stripped_text(given, setup, users):
    _, proposal = setup
    with pytest.raises(Invalid) as err:
        services.comment_on_proposal(proposal=proposal, user=users["citizen"], text=given)
    assert err.value.field == "text" and err.value.message == "a comment needs 2 to 2000 characters"
    assert not ProposalComment.objects.exists()


@pytest.mark.parametrize("given", ["ok", "c" * 2000, "  " + "c" * 2000 + "\n"])
def test_comment_length_limits_are_inclusive(given, setup, users):
    _, proposal = setup
    comment = services.comment_on_proposal(proposal=proposal, user=users["citizen"], text=given)
    assert comment.text == given.strip()


@pytest.mark.parametrize("role", ["process_manager", "admin"])
def test_managers_hide_a_comment_and_it_is_audited(role, setup, users):
    process, proposal = setup
    comment = services.comment_on_proposal(proposal=proposal, user=users["citizen"], text="Spam spam")
    services.hide_comment(comment=comment, by=users[role])
    comment.refresh_from_db()
    assert comment.is_hidden
    audit = ProcessAudit.objects.get(process=process, action="comment_hidden")
    assert audit.actor == users[role] and audit.details == {"proposal": proposal.pk, "comment": comment.pk}
    assert list(ProposalComment.objects.visible()) == []


@pytest.mark.parametrize("role", ["citizen", "moderator", "department_staff", "analyst"])
def test_no_one_else_may_hide_a_comment(role, setup, users):
    _, proposal = setup
    comment = services.comment_on_proposal(proposal=proposal, user=users["citizen"], text="Fine by me")
    with pytest.raises(Forbidden):
        services.hide_comment(comment=comment, by=users[role])
    comment.refresh_from_db()
    assert not comment.is_hidden
    assert not ProcessAudit.objects.filter(action="comment_hidden").exists()


# --- page ---------------------------------------------------------------------------------------------------


def test_comment_form_without_js_posts_and_comes_back_to_the_proposal(setup, users, as_user):
    process, proposal = setup
    client = as_user(users["citizen"])
    page = text(client.get(url(process, "proposals/")))
    assert "0 comments" in page
    assert f'name="c{proposal.pk}-text"' in page and f'for="id_c{proposal.pk}-text"' in page
    response = client.post(
        url(process, f"proposals/{proposal.pk}/comments/"), {f"c{proposal.pk}-text": " Lovely "}
    )
    assert response.status_code == 302
    assert response["Location"] == url(process, "proposals/") + f"#comments-{proposal.pk}"
    assert ProposalComment.objects.get().text == "Lovely"
    page = text(client.get(url(process, "proposals/")))
    assert "1 comment" in page and "Lovely" in page and "Your comment is published" in page


def test_comment_by_htmx_returns_the_partial(setup, users, as_user):
    process, proposal = setup
    response = as_user(users["citizen"]).post(
        url(process, f"proposals/{proposal.pk}/comments/"), {f"c{proposal.pk}-text": "Via htmx"}, **HTMX
    )
    assert response.status_code == 200 and "<html" not in text(response)
    assert "Via htmx" in text(response) and "1 comment" in text(response)


@pytest.mark.parametrize("given", ["x", "y" * 2001])
def test_a_refused_comment_shows_the_error_next_to_the_field(given, setup, users, as_user):
    process, proposal = setup
    response = as_user(users["citizen"]).post(
        url(process, f"proposals/{proposal.pk}/comments/"), {f"c{proposal.pk}-text": given}
    )
    assert response.status_code == 400
    body = text(response)
    field_id = f"id_c{proposal.pk}-text"
    # the error sits in the field's group, tied to the textarea
    assert f'<ul class="errorlist" id="{field_id}_error">' in body
    assert f'aria-describedby="{field_id}_helptext {field_id}_error" id="{field_id}"' in body
    assert "a comment needs 2 to 2000 characters" in body
    assert given in body  # the text is kept for correction
    assert not ProposalComment.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(setup, as_user):
    process, proposal = setup
    client = as_user(None)
    page = text(client.get(url(process, "proposals/")))
    assert "Log in to comment" in page and f'name="c{proposal.pk}-text"' not in page
    response = client.post(url(process, f"proposals/{proposal.pk}/comments/"), {f"c{proposal.pk}-text": "Hi"})
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    assert not ProposalComment.objects.exists()


def test_a_user_of_another_city_is_refused_on_the_page(setup, outsider, as_user):
    process, proposal = setup
    client = as_user(outsider)
    assert f'name="c{proposal.pk}-text"' not in text(client.get(url(process, "proposals/")))
    response = client.post(
        url(process, f"proposals/{proposal.pk}/comments/"), {f"c{proposal.pk}-text": "Hello from Ghent"}
    )
    assert response.status_code == 403
    assert "only people registered in Manchester can comment" in text(response)
    assert not ProposalComment.objects.exists()


def test_no_comment_form_and_a_refusal_once_voting_opens(setup, users, as_user):
    process, proposal = setup
    process.phase = Phase.VOTING
    process.save()
    client = as_user(users["citizen"])
    page = text(client.get(url(process, "proposals/")))
    assert f'name="c{proposal.pk}-text"' not in page and "Log in to comment" not in page
    response = client.post(
        url(process, f"proposals/{proposal.pk}/comments/"), {f"c{proposal.pk}-text": "Late"}
    )
    assert response.status_code == 403
    assert "comments are open only while proposals are collected and reviewed" in text(response)
    assert not ProposalComment.objects.exists()


def test_manager_hides_a_comment_from_the_page(setup, users, as_user):
    process, proposal = setup
    comment = services.comment_on_proposal(proposal=proposal, user=users["citizen"], text="Buy my watches")
    services.comment_on_proposal(proposal=proposal, user=users["citizen"], text="Kept comment")
    hide = url(process, f"proposals/{proposal.pk}/comments/{comment.pk}/hide/")
    citizen, manager = as_user(users["citizen"]), as_user(users["process_manager"])
    assert hide not in text(citizen.get(url(process, "proposals/")))
    assert hide in text(manager.get(url(process, "proposals/")))
    assert citizen.post(hide).status_code == 403
    assert not ProposalComment.objects.get(pk=comment.pk).is_hidden
    response = manager.post(hide)
    assert response.status_code == 302 and response["Location"].endswith(f"#comments-{proposal.pk}")
    assert ProposalComment.objects.get(pk=comment.pk).is_hidden
    for client in (citizen, manager, as_user(None)):
        page = text(client.get(url(process, "proposals/")))
        assert "Buy my watches" not in page and "Kept comment" in page and "1 comment" in page


def test_hiding_a_comment_of_another_proposal_is_404(setup, users, as_user):
    process, proposal = setup
    other = _proposal(process, users["citizen"], title="Lights")
    comment = services.comment_on_proposal(proposal=other, user=users["citizen"], text="On lights")
    response = as_user(users["process_manager"]).post(
        url(process, f"proposals/{proposal.pk}/comments/{comment.pk}/hide/")
    )
    assert response.status_code == 404
    assert not ProposalComment.objects.get(pk=comment.pk).is_hidden


def test_proposals_page_query_count_does_not_grow_with_comments(
    setup, users, as_user, django_assert_max_num_queries
):
    process, proposal = setup
    client = as_user(users["process_manager"])
    with django_assert_max_num_queries(20) as few:
        client.get(url(process, "proposals/"))
    for i in range(4):
        extra = _proposal(process, users["citizen"], title=f"Idea {i}")
        for j in range(3):
            services.comment_on_proposal(proposal=extra, user=users["citizen"], text=f"comment {i}.{j}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(process, "proposals/")).status_code == 200


# --- API ----------------------------------------------------------------------------------------------------


def _login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def test_api_posts_lists_and_hides_comments(setup, users, client):
    process, proposal = setup
    _login(client, users["citizen"])
    response = client.post(api(process, proposal), {"text": "  Great idea  "}, content_type=J)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["text"] == "Great idea" and created["proposal_id"] == proposal.pk
    assert created["is_hidden"] is False
    client.post(api(process, proposal), {"text": "Second"}, content_type=J)
    _login(client, None)
    listed = client.get(api(process, proposal)).json()
    assert listed["count"] == 2 and [c["text"] for c in listed["items"]] == ["Great idea", "Second"]
    proposals = client.get(f"/api/budgeting/processes/{process.pk}/proposals").json()["items"]
    assert proposals[0]["comments"] == 2
    _login(client, users["process_manager"])
    hidden = client.post(api(process, proposal, f"/{created['id']}/hide"))
    assert hidden.status_code == 200 and hidden.json()["is_hidden"] is True
    _login(client, None)
    assert [c["text"] for c in client.get(api(process, proposal)).json()["items"]] == ["Second"]
    proposals = client.get(f"/api/budgeting/processes/{process.pk}/proposals").json()["items"]
    assert proposals[0]["comments"] == 1


def test_api_comment_list_is_paginated(setup, users, client):
    process, proposal = setup
    ProposalComment.objects.bulk_create(
        ProposalComment(proposal=proposal, author=users["citizen"], text=f"c{i}") for i in range(55)
    )
    first = client.get(api(process, proposal)).json()
    assert first["count"] == 55 and len(first["items"]) == 50
    assert len(client.get(api(process, proposal) + "?page=2").json()["items"]) == 5


def test_api_refusals_say_why_and_change_nothing(setup, users, outsider, client):
    process, proposal = setup
    _login(client, None)
    anonymous = client.post(api(process, proposal), {"text": "Hi there"}, content_type=J)
    assert anonymous.status_code == 401
    _login(client, outsider)
    other_city = client.post(api(process, proposal), {"text": "Hi there"}, content_type=J)
    assert other_city.status_code == 403
    assert other_city.json()["error"]["message"] == "only people registered in Manchester can comment"
    _login(client, users["citizen"])
    for given in ("x", "z" * 2001):
        short = client.post(api(process, proposal), {"text": given}, content_type=J)
        assert short.status_code == 400
        assert short.json()["error"] == {
            "code": "invalid",
            "field": "text",
            "message": "a comment needs 2 to 2000 characters",
        }
    missing = client.post(api(process, proposal), {}, content_type=J)
    assert missing.status_code in (400, 422) and "text" in missing.content.decode()
    process.phase = Phase.VOTING
    process.save()
    late = client.post(api(process, proposal), {"text": "Hi there"}, content_type=J)
    assert late.status_code == 403 and late.json()["error"]["code"] == "forbidden"
    assert not ProposalComment.objects.exists()


def test_api_only_managers_hide(setup, users, client):
    process, proposal = setup
    comment = services.comment_on_proposal(proposal=proposal, user=users["citizen"], text="Keep me")
    _login(client, None)
    assert client.post(api(process, proposal, f"/{comment.pk}/hide")).status_code == 401
    for role in ("citizen", "moderator", "analyst"):
        _login(client, users[role])
        response = client.post(api(process, proposal, f"/{comment.pk}/hide"))
        assert response.status_code == 403, role
    assert not ProposalComment.objects.get(pk=comment.pk).is_hidden
    _login(client, users["admin"])
    assert client.post(api(process, proposal, "/999999/hide")).status_code == 404


def test_api_proposal_of_another_process_is_404(setup, users, manchester, client):
    process, proposal = setup
    other = make_process(manchester, phase=Phase.PROPOSALS, costs=())
    _login(client, users["citizen"])
    response = client.post(
        f"/api/budgeting/processes/{other.pk}/proposals/{proposal.pk}/comments",
        {"text": "Hi"},
        content_type=J,
    )
    assert response.status_code == 404
    assert (
        client.get(f"/api/budgeting/processes/{other.pk}/proposals/{proposal.pk}/comments").status_code == 404
    )
    assert not ProposalComment.objects.exists()


def test_a_withdrawn_proposal_takes_no_comments_on_the_api_either(setup, users, client):
    process, proposal = setup
    proposal.status = Proposal.Status.WITHDRAWN
    proposal.save()
    _login(client, users["citizen"])
    response = client.post(api(process, proposal), {"text": "Still a good idea"}, content_type=J)
    assert response.status_code == 404 and response.json()["error"]["field"] == "proposal_id"
    assert not ProposalComment.objects.exists()
