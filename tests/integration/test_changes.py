"""The action layer end to end on SQLite and PostgreSQL: proposals, decisions, apply, revert, audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changes_world import ADMIN, EDITOR, RESET, RESET_DESCRIPTION, VIEWER, build_world, draft, reset_edit
from deskops.bootstrap import Services
from deskops.changes import audit
from deskops.changes.apply import apply_proposal, revert_proposal
from deskops.changes.changeset import ChangeSetError, history, parse_change_set, resolve
from deskops.changes.proposals import (
    create_proposal,
    mark_finding,
    refine_proposal,
    reject_proposal,
    report,
    split_proposal,
)
from deskops.domain.changes import ChangeSet, ProposalState
from deskops.errors import Conflict, Forbidden, InvalidInput, NotFound
from deskops.store import tables as t


@pytest.fixture
def world(services: Services) -> Iterator[Services]:
    build_world(services)
    yield services


def _create(services: Services, change_set: dict, actor=ADMIN, **kwargs) -> int:  # type: ignore[no-untyped-def]
    made = create_proposal(
        uow=services.uow(),
        workspace="demo",
        draft=draft(change_set, **kwargs),
        actor=actor,
        reviewing=services.reviewing,
        replay=False,
    )
    return made.proposal.id


def _body(services: Services, external_id: str = "kb-reset") -> str:
    with services.uow() as uow:
        return uow.workspace("demo").articles.get(external_id).body


def _counts(services: Services) -> tuple[int, int, int]:
    with services.uow() as uow:
        scope = uow.workspace("demo")
        return scope.proposals.count(), scope.audit.count(), len(scope.articles.versions("kb-reset"))


def test_the_lifecycle_create_refine_accept_history_revert_verify(world: Services) -> None:
    services = world
    first = _create(
        services, reset_edit(), title="Reset links now expire after 30 minutes", description=RESET_DESCRIPTION
    )
    with services.uow() as uow:
        made = report(uow.workspace("demo"), first)
    assert made.proposal.state is ProposalState.open and made.proposal.revision == 1
    assert {r.reviewer for r in made.reviews} == {
        "description",
        "intent",
        "safety",
        "consistency",
        "style",
        "size",
    }
    # The edit leaves the article's summary and the FAQ twin at 60 minutes: both contradictions are named.
    contradictions = [f for r in made.reviews for f in r.findings if f.code == "consistency.contradiction"]
    assert {tuple(f.related) for f in contradictions} == {("article:kb-reset",), ("article:kb-faq-reset",)}
    assert made.verdict == "block" and _body(services) == RESET  # nothing written yet

    # Refine by instruction: every "60 minutes" of the change set becomes "30 minutes", and the FAQ joins.
    second = refine_proposal(
        uow=services.uow(),
        workspace="demo",
        proposal_id=first,
        actor=ADMIN,
        reviewing=services.reviewing,
        change_set=ChangeSet.model_validate(
            {
                "articles": [
                    {"external_id": "kb-reset", "body": RESET.replace("60 minutes", "30 minutes")},
                    {
                        "external_id": "kb-faq-reset",
                        "body": "Forgot your password? Ask for a reset link from the sign-in page.\n\n"
                        "- Reset links expire after 30 minutes and can only be used once.\n",
                    },
                ]
            }
        ),
        replay=False,
    )
    assert second.proposal.revision == 2 and second.proposal.supersedes == first
    assert [p.state for p in second.thread] == [ProposalState.superseded, ProposalState.open]
    assert second.verdict != "block", [f.message for r in second.reviews for f in r.findings]

    applied = apply_proposal(
        uow=services.uow(), workspace="demo", proposal_id=second.proposal.id, actor=EDITOR
    )
    assert applied.versions == {"article:kb-reset": 2, "article:kb-faq-reset": 2} and not applied.already
    assert "30 minutes" in _body(services) and "60 minutes" not in _body(services)
    again = apply_proposal(uow=services.uow(), workspace="demo", proposal_id=second.proposal.id, actor=EDITOR)
    assert again.already and _counts(services)[2] == 2  # accepting twice applies once

    with services.uow() as uow:
        versions = history(uow.workspace("demo"), "article", "kb-reset")
    assert [(v.version, v.changed_by, v.proposal_id) for v in versions] == [
        (1, None, None),
        (2, f"member:{EDITOR.name}", second.proposal.id),
    ]
    assert versions[1].why == second.proposal.title

    reverted = revert_proposal(
        uow=services.uow(), workspace="demo", proposal_id=second.proposal.id, actor=ADMIN
    )
    assert reverted.versions == {"article:kb-reset": 3, "article:kb-faq-reset": 3}
    assert _body(services) == RESET  # the base, written back as version 3: history is never rewritten
    with services.uow() as uow:
        scope = uow.workspace("demo")
        assert len(scope.articles.versions("kb-reset")) == 3
        kinds = [e.kind for e in scope.audit.list(limit=None)]
        verified = audit.verify(scope)
    assert kinds == [
        "proposal.created",
        "proposal.reviewed",
        "proposal.refined",
        "proposal.reviewed",
        "proposal.approved",
        "proposal.applied",
        "proposal.reverted",
    ]
    assert verified.ok and verified.events == 7 and verified.first_bad_seq is None


def test_a_report_shows_the_diff_as_proposed_even_after_the_content_moved_on(world: Services) -> None:
    services = world
    proposal_id = _create(services, reset_edit())
    apply_proposal(
        uow=services.uow(), workspace="demo", proposal_id=proposal_id, actor=ADMIN, override="test"
    )
    with services.uow() as uow:
        shown = report(uow.workspace("demo"), proposal_id)
    (item,) = shown.diff.items
    assert item.words_added == 1 and item.words_removed == 1
    replaced = [b for b in item.blocks if b.op == "replace"]
    assert [(w.op, w.text) for w in replaced[0].words if w.op != "equal"] == [
        ("delete", "60"),
        ("insert", "30"),
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not an object", "must be a JSON object"),
        ({"pages": []}, "unknown key(s) pages"),
        ({"articles": {"x": 1}}, "articles must be a list of objects"),
        ({"articles": [{"body": "x"}]}, "articles[1]: external_id is required"),
        (
            {"articles": [{"external_id": "kb-new", "body": "x"}]},
            "articles[1] (kb-new): title: Field required",
        ),
        (
            {"articles": [{"external_id": "kb-reset", "bdy": "x"}]},
            "articles[1] (kb-reset): unknown field(s) bdy",
        ),
        ({"articles": [{"external_id": "kb-reset", "state": "gone"}]}, "articles[1] (kb-reset): state"),
        (
            {"articles": [{"external_id": "kb-reset", "body": RESET}]},
            "articles[1] (kb-reset): changes nothing",
        ),
        (
            {
                "articles": [
                    {"external_id": "kb-reset", "title": "a"},
                    {"external_id": "kb-reset", "title": "b"},
                ]
            },
            "articles[2] (kb-reset): article:kb-reset appears twice",
        ),
        ({"guidance": [{"external_id": "gr-legal", "kind": "escalate"}]}, "guidance[1] (gr-legal): kind"),
        (
            {"guidance": [{"external_id": "gr-legal", "condition": {"plan_name": "x"}}]},
            "guidance[1] (gr-legal): condition.plan_name",
        ),
        (
            {"procedures": [{"external_id": "proc-refund", "steps": "ask"}]},
            "procedures[1] (proc-refund): steps",
        ),
        ({"settings": {"confidence_threshold": 5}}, "settings: confidence_threshold"),
        ({"settings": {"treshold": 0.5}}, "settings: unknown key(s) treshold"),
        ({"policy": {"max_items": 0}}, "policy: max_items"),
        (
            {"archive": [{"kind": "article", "external_id": "kb-nope"}]},
            "archive[1] (article kb-nope): there is no",
        ),
        ({"archive": [{"kind": "page", "external_id": "kb-reset"}]}, "archive.0.kind"),
        ({}, "must be a JSON object"),
    ],
)
def test_a_bad_change_set_is_refused_naming_item_and_field_and_nothing_is_stored(
    world: Services, document: object, message: str
) -> None:
    services = world
    before = _counts(services)
    with pytest.raises(InvalidInput) as error:
        change_set = parse_change_set(document)
        with services.uow() as uow:
            resolve(change_set, uow.workspace("demo"))
    assert message in str(error.value) and isinstance(error.value, ChangeSetError), str(error.value)
    assert _counts(services) == before


def test_decisions_refuse_wrong_states_unknown_ids_and_other_workspaces(world: Services) -> None:
    services = world
    build_world(services, "other")
    proposal_id = _create(
        services, {"articles": [{"external_id": "kb-refund", "title": "Refunds for yearly plans"}]}
    )
    before = _counts(services)
    with pytest.raises(InvalidInput, match="needs a reason"):
        reject_proposal(
            uow=services.uow(), workspace="demo", proposal_id=proposal_id, actor=ADMIN, reason=" "
        )
    with pytest.raises(NotFound, match="no proposal 999"):
        apply_proposal(uow=services.uow(), workspace="demo", proposal_id=999, actor=ADMIN)
    with pytest.raises(NotFound, match=f"no proposal {proposal_id}"):  # the id exists, in another workspace
        apply_proposal(uow=services.uow(), workspace="other", proposal_id=proposal_id, actor=ADMIN)
    with pytest.raises(NotFound):
        reject_proposal(
            uow=services.uow(), workspace="other", proposal_id=proposal_id, actor=ADMIN, reason="no"
        )
    assert _counts(services) == before
    reject_proposal(
        uow=services.uow(), workspace="demo", proposal_id=proposal_id, actor=EDITOR, reason="not now"
    )
    for decide in (
        lambda: apply_proposal(uow=services.uow(), workspace="demo", proposal_id=proposal_id, actor=ADMIN),
        lambda: reject_proposal(
            uow=services.uow(), workspace="demo", proposal_id=proposal_id, actor=ADMIN, reason="x"
        ),
        lambda: revert_proposal(uow=services.uow(), workspace="demo", proposal_id=proposal_id, actor=ADMIN),
    ):
        with pytest.raises(Conflict, match=f"proposal {proposal_id} is rejected"):
            decide()
    with services.uow() as uow:
        assert uow.workspace("other").proposals.count() == 0


def test_roles_limit_who_proposes_decides_and_overrides(world: Services) -> None:
    services = world
    with pytest.raises(Forbidden, match="viewer"):
        _create(
            services, {"articles": [{"external_id": "kb-refund", "title": "Refunds, yearly"}]}, actor=VIEWER
        )
    settings = _create(
        services,
        {"settings": {"handover_team": "Tier 2"}},
        actor=EDITOR,
        title="Hand over to Tier 2",
        description="Tier 2 now takes hand-overs because Tier 1 moved.",
    )
    with pytest.raises(Forbidden, match="needs admin"):
        apply_proposal(uow=services.uow(), workspace="demo", proposal_id=settings, actor=EDITOR)
    assert apply_proposal(
        uow=services.uow(), workspace="demo", proposal_id=settings, actor=ADMIN
    ).versions == {"settings": 2}
    blocked = _create(services, reset_edit())  # contradicts the FAQ: blocked
    with pytest.raises(Conflict, match="blocked by its reviewers"):
        apply_proposal(uow=services.uow(), workspace="demo", proposal_id=blocked, actor=ADMIN)
    with pytest.raises(Forbidden, match="overriding"):
        apply_proposal(
            uow=services.uow(), workspace="demo", proposal_id=blocked, actor=EDITOR, override="urgent"
        )
    done = apply_proposal(
        uow=services.uow(), workspace="demo", proposal_id=blocked, actor=ADMIN, override="urgent"
    )
    assert done.proposal.decision_reason == "urgent" and done.proposal.decided_by == "local:tester"


def test_a_stale_proposal_writes_nothing_names_the_item_and_can_be_rebased(world: Services) -> None:
    services = world
    slow = _create(services, {"articles": [{"external_id": "kb-refund", "title": "Refunds: annual plans"}]})
    fast = _create(services, {"articles": [{"external_id": "kb-refund", "title": "Annual plan refunds"}]})
    apply_proposal(uow=services.uow(), workspace="demo", proposal_id=fast, actor=ADMIN)
    with pytest.raises(
        Conflict,
        match=r"stale: article:kb-refund is at version 2 \(the proposal started from it "
        r"version 1\).*refine .* --rebase",
    ):
        apply_proposal(uow=services.uow(), workspace="demo", proposal_id=slow, actor=ADMIN)
    with services.uow() as uow:
        scope = uow.workspace("demo")
        assert scope.articles.get("kb-refund").title == "Annual plan refunds"
        assert scope.proposals.get(slow).state is ProposalState.stale
        assert scope.audit.list(kind="proposal.stale")[0].proposal_id == slow
    rebased = refine_proposal(
        uow=services.uow(),
        workspace="demo",
        proposal_id=slow,
        actor=ADMIN,
        reviewing=services.reviewing,
        rebase=True,
        replay=False,
    )
    assert rebased.proposal.base_versions == {"article:kb-refund": 2}
    apply_proposal(uow=services.uow(), workspace="demo", proposal_id=rebased.proposal.id, actor=ADMIN)
    assert _title(services, "kb-refund") == "Refunds: annual plans"


def _title(services: Services, external_id: str) -> str:
    with services.uow() as uow:
        return uow.workspace("demo").articles.get(external_id).title


def test_revert_refuses_to_discard_a_later_change(world: Services) -> None:
    services = world
    first = _create(services, {"articles": [{"external_id": "kb-refund", "title": "Refunds: annual plans"}]})
    apply_proposal(uow=services.uow(), workspace="demo", proposal_id=first, actor=ADMIN)
    later = _create(services, {"articles": [{"external_id": "kb-refund", "title": "Annual plan refunds"}]})
    apply_proposal(uow=services.uow(), workspace="demo", proposal_id=later, actor=ADMIN)
    with pytest.raises(Conflict, match="article:kb-refund is at version 3, written after this proposal"):
        revert_proposal(uow=services.uow(), workspace="demo", proposal_id=first, actor=ADMIN)
    assert _title(services, "kb-refund") == "Annual plan refunds"


def test_reverting_a_new_item_takes_it_out_of_service(world: Services) -> None:
    services = world
    made = _create(
        services,
        {
            "articles": [
                {
                    "external_id": "kb-new",
                    "title": "Exporting invoices",
                    "body": "Open Reports and click Export.",
                }
            ]
        },
        title="Add an article on exporting invoices",
        description="Customers ask how to export invoices and no article answers it, so add one.",
    )
    apply_proposal(uow=services.uow(), workspace="demo", proposal_id=made, actor=ADMIN)
    revert_proposal(uow=services.uow(), workspace="demo", proposal_id=made, actor=ADMIN)
    with services.uow() as uow:
        article = uow.workspace("demo").articles.get("kb-new")
    assert article.state.value == "archived" and article.version == 2


def test_split_makes_one_reviewed_proposal_per_item(world: Services) -> None:
    services = world
    big = _create(
        services,
        {
            "articles": [{"external_id": "kb-refund", "title": "Refunds: annual plans"}],
            "guidance": [{"external_id": "gr-tone", "body": "Be friendly and brief."}],
            "archive": [{"kind": "article", "external_id": "kb-old-payouts"}],
        },
    )
    parts = split_proposal(
        uow=services.uow(),
        workspace="demo",
        proposal_id=big,
        actor=ADMIN,
        reviewing=services.reviewing,
        replay=False,
    )
    assert [list(p.proposal.base_versions) for p in parts] == [
        ["article:kb-refund"],
        ["guidance:gr-tone"],
        ["article:kb-old-payouts"],
    ]
    assert all(len(p.reviews) == 6 for p in parts)
    with services.uow() as uow:
        original = uow.workspace("demo").proposals.get(big)
    assert original.state is ProposalState.superseded
    assert original.decision_reason == "split into " + ", ".join(f"#{p.proposal.id}" for p in parts)


def test_an_oversized_proposal_is_blocked_and_offered_a_split(world: Services) -> None:
    services = world
    many = {
        "articles": [
            {
                "external_id": f"kb-extra-{n}",
                "title": f"Extra article {n}",
                "body": "Open Settings and click Save.",
            }
            for n in range(6)
        ]
    }
    made = _create(
        services, many, title="Add six small articles", description="Six answers customers asked for."
    )
    with services.uow() as uow:
        shown = report(uow.workspace("demo"), made)
    (size,) = [r for r in shown.reviews if r.reviewer == "size"]
    assert size.verdict == "block" and "deskops proposals split" in size.findings[0].message


def test_feedback_downgrades_a_repeatedly_unhelpful_block_through_an_audited_policy_proposal(
    world: Services,
) -> None:
    services = world
    made = _create(services, reset_edit())
    with services.uow() as uow:
        shown = report(uow.workspace("demo"), made)
    finding = next(f for r in shown.reviews for f in r.findings if f.code == "consistency.contradiction")
    assert finding.id is not None
    downgrades = []
    for member in ("a@lumio.test", "b@lumio.test", "c@lumio.test"):
        actor = EDITOR.model_copy(update={"name": member})
        downgrades.append(
            mark_finding(
                uow=services.uow(),
                workspace="demo",
                finding_id=finding.id,
                actor=actor,
                helpful=False,
                reviewing=services.reviewing,
            )[1]
        )
    assert downgrades[:2] == [None, None] and downgrades[2] is not None
    with services.uow() as uow:
        scope = uow.workspace("demo")
        policy = scope.policy.current()
        change = scope.proposals.get(downgrades[2])
        assert audit.verify(scope).ok
        assert [e.kind for e in scope.audit.list(kind="policy.changed")] == ["policy.changed"]
    assert policy.version == 1 and policy.policy.downgraded == ["consistency.contradiction"]
    assert change.state is ProposalState.applied and change.auto_approved and change.author.name == "feedback"
    again = _create(services, reset_edit())
    with services.uow() as uow:
        shown = report(uow.workspace("demo"), again)
    contradiction = next(
        f for r in shown.reviews for f in r.findings if f.code == "consistency.contradiction"
    )
    assert contradiction.verdict == "warn" and contradiction.downgraded


def test_auto_approve_applies_small_passing_changes_and_labels_them(world: Services) -> None:
    services = world
    policy = _create(
        services,
        {"policy": {"auto_approve": {"enabled": True}}},
        title="Auto-approve small edits",
        description="Small typo fixes should not wait for a person.",
    )
    apply_proposal(
        uow=services.uow(), workspace="demo", proposal_id=policy, actor=ADMIN, override="test policy"
    )
    small = _create(
        services,
        {"articles": [{"external_id": "kb-refund", "title": "Refunds for annual plans and renewals"}]},
        title="Clarify the refund article title",
        description="The title should say renewals too, because customers ask.",
    )
    with services.uow() as uow:
        scope = uow.workspace("demo")
        proposal = scope.proposals.get(small)
        events = [e.kind for e in scope.audit.list(proposal_id=small)]
    assert proposal.state is ProposalState.applied and proposal.auto_approved
    assert proposal.decided_by == "system:auto-approve"
    assert "proposal.auto_approved" in events and "proposal.applied" in events
    assert _title(services, "kb-refund") == "Refunds for annual plans and renewals"


def test_the_audit_columns_are_indexed_for_listing(world: Services) -> None:
    services = world
    made = _create(services, {"articles": [{"external_id": "kb-refund", "title": "Refunds: annual plans"}]})
    with services.uow() as uow:
        scope = uow.workspace("demo")
        assert [e.seq for e in scope.audit.list(item="article:kb-refund")] == [1, 2]
        assert scope.audit.list(item="article:kb-ref") == []  # whole keys only
        assert [e.kind for e in scope.audit.list(kind="proposal.", actor="local:tester")] == [
            "proposal.created"
        ]
        assert scope.audit.list(proposal_id=made + 1) == []
        row = uow.connection.execute(
            sa.select(t.audit_events.c["items"]).where(t.audit_events.c.seq == 1)
        ).scalar_one()
    assert row == " article:kb-refund "


BODY_LINES = st.lists(
    st.sampled_from(
        ["Open Settings > Billing.", "- Refunds take 5-10 business days.", "## Steps", "", "1. Click Save.",
         "Reset links expire after 60 minutes.", "Payouts arrive within 2 business days.", "   "]
    ),
    min_size=1,
    max_size=10,
).map(lambda lines: "\n".join(lines) + "\n")  # fmt: skip


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODY_LINES, title=st.sampled_from(["Refunds", "Refunds for annual plans", "Annual refunds"]))
def test_applying_reproduces_the_new_content_exactly_and_revert_the_base(
    sqlite_services: Services, body: str, title: str
) -> None:
    services = sqlite_services
    with services.uow() as uow:
        if uow.workspaces.find("demo") is None:
            uow.commit()
            build_world(services)
    with services.uow() as uow:
        base = uow.workspace("demo").articles.get("kb-refund")
    if (base.body, base.title) == (body, title):
        return
    made = _create(services, {"articles": [{"external_id": "kb-refund", "body": body, "title": title}]})
    apply_proposal(uow=services.uow(), workspace="demo", proposal_id=made, actor=ADMIN, override="property")
    with services.uow() as uow:
        after = uow.workspace("demo").articles.get("kb-refund")
    assert (after.body, after.title) == (body, title)
    revert_proposal(uow=services.uow(), workspace="demo", proposal_id=made, actor=ADMIN)
    with services.uow() as uow:
        again = uow.workspace("demo").articles.get("kb-refund")
    assert (again.body, again.title, again.state) == (base.body, base.title, base.state)
