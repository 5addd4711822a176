"""Customer text is data, never instructions.

The agent's rules come only from the workspace (guidance rules, procedures, settings);
nothing a customer writes can add, remove or change one. This module does two things
with that in mind:

- ``injection_signals`` notices text that *tries* to instruct the agent ("ignore
  previous instructions", a fake ``SYSTEM:`` or agent turn, role tags, instructions
  hidden in quoted text or article-like markdown). The signals go into the decision
  trace; they never unlock anything.
- ``quote_customer`` wraps customer text for a model prompt so it is read as a quoted
  document, with any delimiter inside it neutralised.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "override_instructions",
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b"
            r"(instructions?|rules?|guidelines?|guidance|polic(y|ies)|prompts?|system)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "fake_role_turn",
        re.compile(
            r"(^|\n)\s*(\[|<|\*\*|#+\s*)?(system|assistant|agent|ai|developer|admin|operator|support agent)"
            r"\s*(\]|>|\*\*)?\s*:",
            re.IGNORECASE,
        ),
    ),
    (
        "role_tag",
        re.compile(r"<\|?\s*/?\s*(system|im_start|im_end|assistant|instructions?)\s*\|?>", re.IGNORECASE),
    ),
    (
        "new_persona",
        re.compile(
            r"\b(you are now|from now on you|act as|pretend to be|new instructions?)\b", re.IGNORECASE
        ),
    ),
    (
        "markdown_directive",
        re.compile(
            r"(^|\n)\s*#{1,6}\s*(guidance|rule|policy|instructions?|procedure|system)\b", re.IGNORECASE
        ),
    ),
    (
        "quoted_directive",
        re.compile(r"(^|\n)\s*>\s*[^\n]*\b(always|never|must|ignore|refund|hand ?over)\b", re.IGNORECASE),
    ),
)


def injection_signals(text: str) -> list[str]:
    """Names of the instruction-like patterns found in customer text (empty when none)."""
    return [name for name, pattern in _PATTERNS if pattern.search(text)]


def without_instructions(text: str) -> str:
    """The customer's text minus the sentences and lines that try to instruct the agent (the request).

    Used for searching and for matching the message to rules and procedures, so an injected
    line can neither steer retrieval nor dilute what the customer actually asked; the whole
    text is returned when every line looks like an instruction.
    """
    sentences = []
    for line in text.splitlines():
        parts = [part for part in re.split(r"(?<=[.!?])\s+", line) if part]
        kept = [part for part in parts if not injection_signals(part)]
        if len(kept) == len(parts) and injection_signals(line):
            continue  # a line-level instruction (a fake role turn, a quoted directive): drop it whole
        sentences += kept
    cleaned = " ".join(sentences).strip()
    return cleaned or text


FENCE = "<<<CUSTOMER_TEXT>>>"
END_FENCE = "<<<END_CUSTOMER_TEXT>>>"


def quote_customer(text: str) -> str:
    """Customer text fenced for a prompt; fence markers inside it are broken up."""
    cleaned = text.replace("<<<", "‹‹‹").replace(">>>", "›››")
    return f"{FENCE}\n{cleaned}\n{END_FENCE}"
