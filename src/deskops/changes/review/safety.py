"""Safety: what must never reach customers or the AI agent through a content change.

- personal data or secrets written into content (found the way customer messages are
  redacted; a company address on an allowed domain is fine);
- promises the business cannot keep ("guaranteed", "no questions asked", "always refund"),
  unless live content already states the same;
- a hand-over for a sensitive subject (legal, security, account access, payment disputes:
  the policy's ``sensitive_topics``) removed or weakened, or an instruction not to hand over;
- no hand-over rule left at all;
- the AI agent's confidence threshold below the policy's floor;
- instructions to the AI agent hidden in article text;
- links to domains not on the workspace's allow-list.
"""

from __future__ import annotations

import re
from typing import Any

from deskops.changes.review._facts import URL
from deskops.changes.review.context import (
    Findings,
    ReviewContext,
    Reviewer,
    added_sentences,
    domain_allowed,
    registrable,
)
from deskops.domain.changes import ItemChange, Span
from deskops.frontline.guard import injection_signals
from deskops.frontline.redact import EMAIL, redact
from deskops.search.terms import tokenize

PERSONAL = {
    "cards": "a card number",
    "card_details": "card details",
    "ibans": "a bank account (IBAN)",
    "id_numbers": "an identity number",
    "secrets": "an API key or token",
    "passwords": "a password",
    "pins": "a PIN",
    "codes": "a one-time code",
    "cvvs": "a card security code",
    "account_numbers": "an account number",
    "emails": "a personal email address",
}
"""What redaction finds that blocks a change (phones, addresses, postcodes warn: may be the company's)."""
CONTACT = {"phones": "a phone number", "addresses": "a street address", "postcodes": "a postcode"}
PROMISES = re.compile(
    r"\bguarantee[ds]?\b|\bno questions asked\b|\bfree forever\b|\blifetime "
    r"(?:access|refund|warranty|free)\b|"
    r"\bunlimited (?:refunds?|credits?)\b|\b100\s?%\s*(?:refund|money.back|uptime|secure|safe)\b|"
    r"\b(?:always|any ?time|no matter what|in all cases|every time|regardless)\b[^.]{0,50}\b(?:refund|credit|"
    r"compensat|reimburs|waive)\w*|\b(?:refund|credit|compensat|reimburs|waive)\w*\b[^.]{0,50}"
    r"\b(?:always|any ?time|"
    r"no matter what|in all cases|every time|regardless)\b|\bwe will (?:always "
    r")?(?:refund|credit|compensate|reimburse|"
    r"waive)\b|\bnever (?:charge|fail|lose)\b|\binstant(?:ly)? refund",
    re.IGNORECASE,
)
NO_HANDOVER = re.compile(
    r"\b(?:never|do not|don't|no need to|avoid|without|instead of)\b[^.]{0,40}\b(?:hand(?:ing)?[ "
    r"-]?over|handover|"
    r"escalat\w*|transfer\w*|pass\w* (?:it )?(?:on|to a (?:person|human|agent)))",
    re.IGNORECASE,
)
HANDS_OVER = re.compile(
    r"\bhand(?:s|ing)?[ -]?over\b|\bhandover\b|\bescalat\w*|\btransfer\w* to a (?:person|human)", re.I
)
HIDDEN = re.compile(
    r"<!--|[\u200b\u200c\u200d\u2060\ufeff]|\b(?:as an ai|ai (?:agent|assistant)s?,? "
    r"(?:must|should|always|never))\b",
    re.I,
)


def check(context: ReviewContext) -> Findings:
    found = Findings()
    allowed = context.policy.allowed_domains
    if allowed is None:
        allowed = sorted({registrable(d) for d in context.linked_domains})
    for change in context.changes:
        added = added_sentences(change)
        _personal_data(found, change, added, allowed)
        _promises(found, context, change, added)
        if change.kind == "article":
            _hidden_instructions(found, change, added)
        if change.kind in ("article", "guidance", "procedure"):
            _links(found, change, added, allowed)
        if change.kind in ("guidance", "procedure"):
            _handover(found, context, change, added)
        if change.kind == "settings":
            _settings(found, context, change)
    _any_handover_left(found, context)
    return found


def _personal_data(
    found: Findings, change: ItemChange, added: list[tuple[str, str]], allowed: list[str]
) -> None:
    for path, sentence in added:
        redaction = redact(_without_allowed_emails(sentence, allowed))
        kinds = [PERSONAL[k] for k in redaction.found if k in PERSONAL]
        contact = [CONTACT[k] for k in redaction.found if k in CONTACT]
        if kinds:
            found.block(
                "safety.personal_data",
                f"This adds {', '.join(sorted(set(kinds)))} to {change.kind} {change.external_id}: "
                "personal data "
                "and secrets never belong in content customers or the AI agent read.",
                item=change.key,
                span=Span(path=path, text=redaction.text[:200]),
                evidence=[f"found: {', '.join(sorted(redaction.found))} (shown redacted)"],
            )
        elif contact:
            found.warn(
                "safety.contact_details",
                f"This adds {', '.join(sorted(set(contact)))} to {change.kind} {change.external_id}: "
                "fine if it is the "
                "company's own, never a customer's.",
                item=change.key,
                span=Span(path=path, text=redaction.text[:200]),
            )


def _without_allowed_emails(text: str, allowed: list[str]) -> str:
    return EMAIL.sub(
        lambda m: "support address" if domain_allowed(m.group(0).split("@")[1], allowed) else m.group(0), text
    )


def _promises(
    found: Findings, context: ReviewContext, change: ItemChange, added: list[tuple[str, str]]
) -> None:
    stated = _live_sentences(context, exclude=change.key)
    for path, sentence in added:
        match = PROMISES.search(sentence)
        if not match:
            continue
        terms = set(tokenize(sentence))
        if any(_jaccard(terms, other) >= 0.6 for other in stated):
            continue  # the workspace's live content already says this: it is policy, not a new promise
        found.block(
            "safety.promise",
            f"{change.kind.capitalize()} {change.external_id} would promise {match.group(0)!r}: a "
            "commitment the "
            "business may not be able to keep. State the actual policy and its conditions instead.",
            item=change.key,
            span=Span(path=path, text=sentence[:300]),
        )


def _live_sentences(context: ReviewContext, *, exclude: str) -> list[set[str]]:
    from deskops.changes.review._facts import sentences

    out = []
    for item in context.before.values():
        if item.live and item.key != exclude and item.kind in ("article", "guidance", "procedure"):
            for _, text in item.texts():
                out += [set(tokenize(s)) for s in sentences(text) if PROMISES.search(s)]
    return out


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _hidden_instructions(found: Findings, change: ItemChange, added: list[tuple[str, str]]) -> None:
    body_before = str((change.before or {}).get("body") or "")
    body_after = str(change.after.get("body") or "")
    signals: list[tuple[str, str]] = []
    for path, sentence in added:
        names = injection_signals(sentence) + (["hidden_markup"] if HIDDEN.search(sentence) else [])
        if names:
            signals.append((path, sentence))
    if HIDDEN.search(body_after) and not HIDDEN.search(body_before) and not signals:
        signals.append(("/body", HIDDEN.search(body_after).group(0)))  # type: ignore[union-attr]
    for path, sentence in signals[:3]:
        found.block(
            "safety.hidden_instructions",
            f"Article {change.external_id} would carry instructions aimed at the AI agent "
            f"({sentence[:80]!r}): "
            "article text is read as reference, and an instruction hidden in it is how an agent is hijacked.",
            item=change.key,
            span=Span(path=path, text=sentence[:300]),
        )


def _links(found: Findings, change: ItemChange, added: list[tuple[str, str]], allowed: list[str]) -> None:
    for path, sentence in added:
        for match in URL.finditer(sentence):
            link = match.group(0).rstrip(".,;:!?")
            if "@" in sentence[max(0, match.start() - 1) : match.start()]:
                continue  # the domain of an email address
            if not domain_allowed(link, allowed):
                found.block(
                    "safety.link_domain",
                    f"{change.kind.capitalize()} {change.external_id} would link to {link}, which is "
                    "not on the "
                    f"workspace's allowed domains ({', '.join(allowed) or 'none'}). An admin can add it "
                    "to the review policy.",
                    item=change.key,
                    span=Span(path=path, text=link),
                )


def _sensitive(context: ReviewContext, content: dict[str, Any]) -> list[str]:
    """The sensitive subjects an item of guidance or a procedure is about."""
    condition = content.get("condition") or {}
    words = " ".join(
        [str(content.get("title") or ""), str(content.get("body") or "")]
        + [str(k) for k in condition.get("keywords") or []]
        + [str(condition.get("topic") or "").replace("_", " ")]
        + [str(t).replace("_", " ") for t in content.get("trigger_topics") or []]
        + [str(s.get("instruction", "")) for s in content.get("steps") or []]
    ).lower()
    return sorted(
        name
        for name, terms in context.policy.sensitive_topics.items()
        if any(re.search(rf"\b{re.escape(term.lower())}", words) for term in terms)
    )


def _hands_over(kind: str, content: dict[str, Any]) -> bool:
    if not content or not content.get("enabled", True):
        return False
    if kind == "guidance":
        return content.get("kind") in ("handover", "forbidden")
    return any(
        HANDS_OVER.search(str(s.get("instruction", "")))
        and not NO_HANDOVER.search(str(s.get("instruction", "")))
        for s in content.get("steps") or []
    )


def _handover(
    found: Findings, context: ReviewContext, change: ItemChange, added: list[tuple[str, str]]
) -> None:
    before, after = change.before or {}, change.after
    subjects = _sensitive(context, before) or _sensitive(context, after)
    weakened = []
    if _hands_over(change.kind, before):
        if not _hands_over(change.kind, after):
            weakened.append("it would no longer hand the conversation over")
        elif change.kind == "guidance":
            old, new = before.get("condition") or {}, after.get("condition") or {}
            dropped = sorted(set(old.get("keywords") or []) - set(new.get("keywords") or []))
            if dropped:
                weakened.append(f"it would stop matching {', '.join(dropped)}")
            if old.get("topic") and old.get("topic") != new.get("topic"):
                weakened.append(f"it would no longer apply to the topic {old['topic']}")
            narrowed = sorted(k for k in new if k not in old and k not in ("keywords", "topic"))
            if narrowed:
                weakened.append(f"it would apply only when {', '.join(f'{k}={new[k]}' for k in narrowed)}")
            if (new.get("failed_answers") or 0) > (old.get("failed_answers") or 0) > 0:
                weakened.append(
                    f"it would wait for {new['failed_answers']} failed answers instead of "
                    f"{old['failed_answers']}"
                )
    refusals = [(p, s) for p, s in added if NO_HANDOVER.search(s)]
    if subjects and (weakened or refusals):
        what = "; ".join(weakened) if weakened else f"it tells the agent {refusals[0][1][:100]!r}"
        found.block(
            "safety.sensitive_handover",
            f"{change.kind.capitalize()} {change.external_id} hands over {', '.join(subjects)} "
            "conversations, and "
            f"{what}. Sensitive subjects must reach a person.",
            item=change.key,
            span=Span(
                path=refusals[0][0] if refusals else "/condition",
                text=(refusals[0][1] if refusals else what)[:300],
            ),
            evidence=[f"sensitive subjects: {', '.join(subjects)}"],
        )
    elif weakened:
        found.warn(
            "safety.weaker_handover",
            f"{change.kind.capitalize()} {change.external_id}: {'; '.join(weakened)}. Check the "
            "conversations it "
            "handed over still reach a person.",
            item=change.key,
        )
    elif refusals:
        found.warn(
            "safety.no_handover_instruction",
            f"{change.kind.capitalize()} {change.external_id} tells the agent not to hand over "
            f"({refusals[0][1][:100]!r}).",
            item=change.key,
            span=Span(path=refusals[0][0], text=refusals[0][1][:300]),
        )


def _settings(found: Findings, context: ReviewContext, change: ItemChange) -> None:
    floor = context.policy.min_confidence_threshold
    threshold = change.after.get("confidence_threshold")
    old = (change.before or {}).get("confidence_threshold")
    if threshold is not None and threshold < floor and threshold != old:
        found.block(
            "safety.confidence_floor",
            f"The AI agent's confidence threshold would be {threshold}, below the workspace's floor of "
            f"{floor}: it "
            "would answer from passages it is not confident match the question.",
            item=change.key,
            span=Span(path="/confidence_threshold", text=str(threshold)),
        )
    if change.after.get("enabled") is False and (change.before or {}).get("enabled", True):
        found.warn(
            "safety.agent_disabled",
            "This turns the AI agent off: every conversation would go to a person.",
            item=change.key,
            span=Span(path="/enabled", text="false"),
        )


def _any_handover_left(found: Findings, context: ReviewContext) -> None:
    def rules(items: dict[str, Any]) -> list[str]:
        return [i.key for i in items.values() if i.kind == "guidance" and _hands_over("guidance", i.content)]

    if rules(context.before) and not rules(context.after):
        found.block(
            "safety.all_handover_disabled",
            "After this change no guidance rule hands conversations over: the AI agent would keep every "
            "conversation, including the ones only a person can resolve.",
            related=rules(context.before),
        )


REVIEWER = Reviewer(
    "safety", "personal data, promises, sensitive hand-overs, hidden instructions, links", check
)
