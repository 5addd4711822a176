"""The grounding check claim by claim: negations, commitments, joined claims and courtesy."""

from __future__ import annotations

from deskops.frontline import compose

PASSAGES = [
    compose.Passage(
        "article:kb-1",
        "Refunds",
        None,
        "Refunds are not available for monthly plans. Annual plans can be refunded within 14 days of "
        "purchase; refunds must be approved by your account manager. Charges on your card appear "
        "within 3 days.",
    ),
    compose.Passage(
        "article:kb-2",
        "Reset your password",
        "Steps",
        "1. Open Settings.\n2. Choose Security.\n3. Click Reset password and follow the email.",
    ),
]


def _verdicts(answers: list[str], *, asked: str = "") -> dict[str, str]:
    """Each answer with the check's reason, prefixed by whether it was served."""
    verdicts = {}
    for answer in answers:
        result = compose.check_grounding(answer, PASSAGES, asked=asked)
        verdicts[answer] = f"{'served' if result.ok else 'refused'}: {result.reason}"
    return verdicts


def _assert(refused: list[str], served: list[str], *, asked: str = "") -> None:
    wrong = {
        answer: verdict
        for answer, verdict in _verdicts(refused + served, asked=asked).items()
        if verdict.startswith("served") is (answer in refused)
    }
    assert not wrong, "\n".join(f"{answer!r} -> {verdict}" for answer, verdict in wrong.items())


def test_a_negated_policy_is_not_read_as_its_opposite() -> None:
    _assert(
        refused=[
            "Refunds are available for monthly plans [1].",
            "Monthly plans can be refunded [1].",
            "You can get a refund on a monthly plan [1].",
            "No, refunds are available for monthly plans [1].",
            "Annual plans cannot be refunded [1].",
            "Refunds aren't available for annual plans [1].",
            "Refunds don't need your account manager's approval [1].",
            "Annual plans are not refunded; monthly plans can be refunded within 14 days [1].",
        ],
        served=[
            "Refunds are not available for monthly plans [1].",
            "Monthly plans can't be refunded [1].",
            "No, refunds aren't available for monthly plans [1].",
            "Refunds are available for annual plans within 14 days of purchase [1].",
            "Annual plans can be refunded within 14 days, but monthly plans cannot [1].",
        ],
    )


def test_a_commitment_needs_a_cited_sentence_that_states_it() -> None:
    _assert(
        refused=[
            # The passage names a refund and an approval, but only as a requirement.
            "Refund approved [1].",
            "Your refund has been approved [1].",
            "Your account manager has approved the refund [1].",
            # "can be refunded" is not "will be refunded".
            "We will refund your annual plan within 14 days [1].",
            # The words are in the passage, never together in one sentence.
            "Refunds appear on your card within 3 days [1].",
            # Commitments beyond the old word list.
            "We will reverse the charge on your card [1].",
            "Charges on your card will be voided within 3 days [1].",
            "The charges on your card will be written off [1].",
            "Your account manager will approve the refund soon [1].",
        ],
        served=[
            "Annual plans can be refunded within 14 days of purchase [1].",
            "You can get a refund on an annual plan within 14 days [1].",
            "Refunds must be approved by your account manager [1].",
            "Your account manager needs to approve the refund [1].",
            "Charges on your card appear within 3 days [1].",
        ],
    )


def test_each_claim_joined_into_one_sentence_or_list_is_checked() -> None:
    _assert(
        refused=[
            "Open Settings, choose Security and click Reset password, and we have closed your account [2].",
            "To reset it: [2]\n- Open Settings\n- Choose Security\n- Click Reset password\n"
            "- Your account will be deleted afterwards",
            "Steps [2]:\n* Open Settings\n* Choose Security\n* Click Reset password\n* Refund approved",
            "Open Settings, choose Security and click Reset password; we deleted it [2].",
            "Open Settings, choose Security, click Reset password and follow the email, "
            "but your account stays locked [2].",
            "Open Settings, choose Security and click Reset password and we will unlock your account [2].",
        ],
        served=[
            "Open Settings, choose Security, and click Reset password [2].",
            "To reset it: [2]\n- Open Settings\n- Choose Security\n"
            "- Click Reset password and follow the email",
            "Refunds are not available for monthly plans, but annual plans can be refunded within 14 days "
            "of purchase [1].",
            "Annual plans can be refunded within 14 days; refunds must be approved by your account "
            "manager [1].",
        ],
    )


def test_courtesy_may_greet_thank_and_echo_the_question_but_not_claim() -> None:
    asked = "Hi, can I get a refund on my monthly plan? Is my refund approved?"
    _assert(
        refused=[
            "Thanks, your refund is approved [1].",
            "Thanks for asking about your approved refund [1].",
            "Hi Anna, refund approved [1].",
        ],
        served=[
            "Hi Anna! Open Settings, choose Security, then click Reset password [2].",
            "Thanks for asking about refunds. Annual plans can be refunded within 14 days of purchase [1].",
            "Hello Anna, thanks for reaching out about your password. Open Settings [2].",
            "Thank you for your question about monthly plans! Refunds are not available for monthly "
            "plans [1].",
            "Happy to help with your refund question. Refunds must be approved by your account manager [1].",
        ],
        asked=asked,
    )
