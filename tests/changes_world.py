"""A small workspace whose content states facts in several places, for the action layer's tests.

The reset-link lifetime (60 minutes) is stated in an article and again in its FAQ twin; the
refund window (14 days) in an article and in a procedure; payouts (2 business days) in an
article that links to the company's domain, and 3 business days in an old draft. A rule
names the refund article by its title. Rules hand over legal threats and
account closures (sensitive) and Enterprise billing (not sensitive).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deskops.bootstrap import Services
from deskops.domain.changes import Actor, ActorKind, ChangeSet, ProposalDraft
from deskops.domain.models import (
    Article,
    ContentState,
    FrontlineSettings,
    GuidanceRule,
    Procedure,
    ProcedureStep,
    Role,
    RuleCondition,
    RuleKind,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
RESET = """Use the 'Forgot password?' link on the sign-in page and we'll email you a reset link \
that is valid for 60 minutes.

## Steps

1. Go to app.lumio.com/login and click Forgot password?.
2. Open the email and click Reset password.

## Good to know

- Reset links expire after 60 minutes and can only be used once.
- You can request up to 5 reset emails per hour.
"""
FAQ = """Forgot your password? Ask for a reset link from the sign-in page.

- Reset links expire after 60 minutes and can only be used once.
"""
REFUND = """Annual plans can be refunded in full within 14 days of purchase or renewal.

Refunds take 5-10 business days to appear on your card statement.
"""
PAYOUTS = """Payouts arrive within 2 business days. See https://help.lumio.com/payouts for the schedule.
"""
OLD_PAYOUTS = "Payouts arrive within 3 business days. This page is kept for reference.\n"

ADMIN = Actor(kind=ActorKind.local, name="tester", role=Role.admin)
EDITOR = Actor(kind=ActorKind.member, name="ed@lumio.test", role=Role.editor)
VIEWER = Actor(kind=ActorKind.member, name="view@lumio.test", role=Role.viewer)


def build_world(services: Services, name: str = "demo") -> None:
    """Create workspace ``name`` with the content above, three members and the agent's settings."""
    with services.uow() as uow:
        uow.workspaces.create(name)
        scope = uow.workspace(name)

        def article(
            external_id: str, title: str, body: str, state: ContentState = ContentState.published
        ) -> None:
            scope.articles.save(
                Article(
                    external_id=external_id, title=title, body=body, state=state, created_at=T0, updated_at=T0
                )
            )

        article("kb-reset", "Resetting your password", RESET)
        article("kb-faq-reset", "FAQ: forgot password", FAQ)
        article("kb-refund", "Refunds for annual plans", REFUND)
        article("kb-payouts", "When payouts arrive", PAYOUTS)
        article("kb-old-payouts", "Payout timing (old)", OLD_PAYOUTS, ContentState.draft)
        for external_id, title, body, kind, condition in (
            ("gr-legal", "Legal threats go to a person",
             "Hand over when a lawyer or legal action is mentioned.",
             RuleKind.handover, RuleCondition(keywords=["lawyer", "legal action", "regulator"])),
            ("gr-closure", "Account closure", "Always hand over account closure requests.", RuleKind.handover,
             RuleCondition(topic="close_account")),
            ("gr-enterprise", "Enterprise billing", "Hand over billing questions from Enterprise customers.",
             RuleKind.handover, RuleCondition(plan="Enterprise", product_area="billing")),
            ("gr-tone", "Tone of voice", "Be friendly, plain and brief.", RuleKind.tone, RuleCondition()),
            ("gr-cite", "Cite the refund article", "Link 'Refunds for annual plans' when refunds come up.",
             RuleKind.general, RuleCondition()),
        ):  # fmt: skip
            scope.guidance.save(
                GuidanceRule(
                    external_id=external_id,
                    title=title,
                    body=body,
                    kind=kind,
                    condition=condition,
                    updated_at=T0,
                )
            )
        scope.procedures.save(
            Procedure(
                external_id="proc-refund",
                title="Check refund eligibility",
                trigger_topics=["subscription_refund"],
                required_data=["invoice_number"],
                steps=[
                    ProcedureStep(instruction="Ask for the invoice number.", requires=["invoice_number"]),
                    ProcedureStep(
                        instruction="If the charge is under 14 days old, "
                        "offer a full refund of the annual plan."
                    ),
                    ProcedureStep(instruction="Hand over if the customer disagrees."),
                ],
                updated_at=T0,
            )
        )
        scope.procedures.save(
            Procedure(
                external_id="proc-dispute",
                title="Respond to a chargeback",
                trigger_topics=["chargeback_dispute"],
                steps=[
                    ProcedureStep(instruction="Explain the evidence needed."),
                    ProcedureStep(instruction="Hand over disputes above 1,000 USD to a person."),
                ],
                updated_at=T0,
            )
        )
        scope.agent_settings.save(
            FrontlineSettings(confidence_threshold=0.6, handover_team="Tier 1", channels=["chat", "email"]),
            at=T0,
        )
        scope.members.add(email=EDITOR.name, name="Ed", role=Role.editor)
        scope.members.add(email=VIEWER.name, name="Vi", role=Role.viewer)
        uow.commit()


def draft(change_set: dict[str, Any], title: str = "", description: str = "") -> ProposalDraft:
    """A proposal of ``change_set``; by default titled and described by the ids of what it touches."""
    parsed = ChangeSet.model_validate(change_set)
    ids = [
        i["external_id"] for key in ("articles", "guidance", "procedures") for i in change_set.get(key, [])
    ]
    ids += [a["external_id"] for a in change_set.get("archive", [])] + [
        k for k in ("settings", "policy") if k in change_set
    ]
    return ProposalDraft(
        title=title or f"Update {', '.join(ids)}",
        description=description or f"Updates {', '.join(ids)} because the content is out of date.",
        change_set=parsed,
    )


RESET_DESCRIPTION = (
    "Reset links now expire after 30 minutes because security shortened them; the article must say so."
)


def reset_edit(
    old: str = "Reset links expire after 60 minutes", new: str = "Reset links expire after 30 minutes"
) -> dict[str, Any]:
    return {"articles": [{"external_id": "kb-reset", "body": RESET.replace(old, new)}]}
