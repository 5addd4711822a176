"""Every number in an answer must come from a tool result of the same turn.

Numbers are read from the answer's words and matched against every number anywhere in
the turn's tool results, allowing for how a person writes them: a rate as a percentage,
rounded to what is shown, a count with thousands separators, a date. An answer with a
number no tool produced fails closed: it is replaced by the tools' own tables.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

NUMBER = re.compile(r"(?<![\w.])[-+−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])[-+−]?\d+(?:\.\d+)?")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def numbers_of(value: Any, out: set[float] | None = None) -> set[float]:
    """Every number in a tool result (models, dicts, lists and their lengths, figures in strings)."""
    out = set() if out is None else out
    if isinstance(value, BaseModel):
        return numbers_of(value.model_dump(mode="json"), out)
    if isinstance(value, bool) or value is None:
        return out
    if isinstance(value, int | float):
        if math.isfinite(value):
            out.add(float(value))
        return out
    if isinstance(value, str):
        for match in NUMBER.finditer(DATE.sub(" ", value)):
            out.add(_parse(match.group(0)))
        return out
    if isinstance(value, dict):
        for item in value.values():
            numbers_of(item, out)
        return out
    if isinstance(value, list | tuple):
        out.add(float(len(value)))  # how many a tool returned is a figure it produced ("10 rules")
        for item in value:
            numbers_of(item, out)
    return out


def _parse(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-").lstrip("+"))


def ungrounded(answer: str, results: Iterable[Any]) -> list[str]:
    """The numbers of ``answer`` that no tool result supports (dates aside).

    A number is a result rounded as written; followed by ``%`` or ``pts`` it may also be a
    result ×100 (a rate, a change of rate), by ``min`` a result in seconds /60, by ``h`` /3600.
    """
    known: set[float] = set()
    for result in results:
        numbers_of(result, known)
    missing = []
    text = DATE.sub(" ", answer)
    for match in NUMBER.finditer(text):
        written = match.group(0)
        value = abs(_parse(written))
        unit = text[match.end() : match.end() + 6].strip().lower()
        if _supported(value, written, known, _scale(unit)):
            continue
        missing.append(written)
    return missing


def _scale(unit: str) -> float:
    if unit.startswith(("%", "pts", "pt ", "percent")):
        return 100.0
    if unit.startswith("min"):
        return 1 / 60
    if unit.startswith(("h ", "h)", "h;", "h,", "hour")) or unit == "h":
        return 1 / 3600
    return 1.0


def _supported(value: float, written: str, known: set[float], scale: float) -> bool:
    decimals = len(written.split(".")[1]) if "." in written else 0
    tolerance = 0.5 * 10**-decimals + 1e-9
    return any(abs(abs(number) * s - value) <= tolerance for number in known for s in {1.0, scale})
