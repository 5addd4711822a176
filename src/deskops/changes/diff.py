"""Structured diffs of a change set, and three ways to show them.

An article's body is compared block by block (markdown headings, list items, paragraphs)
and a replaced block word by word; every other field is compared by its JSON-pointer path
(before -> after). ``difflib.SequenceMatcher`` (with ``autojunk=False``, so common words
are never skipped) does the matching. The blocks keep their exact text, whitespace
included, so each side of a diff can be rebuilt from it (``rebuild``).
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from rich.text import Text

from deskops.domain.changes import BlockChange, Diff, FieldChange, ItemChange, ItemDiff, WordChange

_BLOCK_START = re.compile(r"^(#{1,6}\s|\s*(?:[-*+]|\d+[.)])\s)")
_TOKENS = re.compile(r"\s+|[^\s]+")
WORD = re.compile(r"\w[\w'’.-]*")


def blocks(body: str) -> list[str]:
    """A markdown body cut into blocks (heading, list item, paragraph), each with the blank lines after it.

    ``"".join(blocks(body)) == body``.
    """
    out: list[str] = []
    current, after_blank = "", False
    for line in body.splitlines(keepends=True):
        if not line.strip():
            current += line
            after_blank = bool(current.strip())
            continue
        if current.strip() and (after_blank or _BLOCK_START.match(line)):
            out.append(current)
            current = ""
        current += line
        after_blank = False
    if current:
        if out and not current.strip():
            out[-1] += current
        else:
            out.append(current)
    return out


def words(text: str) -> int:
    return len(WORD.findall(text))


def word_changes(before: str, after: str) -> list[WordChange]:
    """Word-level changes from ``before`` to ``after`` (runs of whitespace are tokens too)."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: list[WordChange] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if out and out[-1].op == op:
            out[-1] = WordChange(op=out[-1].op, text=out[-1].text + text)
        else:
            out.append(WordChange.model_validate({"op": op, "text": text}))

    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            add("equal", "".join(a[i1:i2]))
        else:
            add("delete", "".join(a[i1:i2]))
            add("insert", "".join(b[j1:j2]))
    return out


def body_changes(before: str, after: str) -> list[BlockChange]:
    """Block-level changes of an article body; a replaced block carries its word-level changes."""
    a, b = blocks(before), blocks(after)
    matcher = difflib.SequenceMatcher(None, [x.strip() for x in a], [x.strip() for x in b], autojunk=False)
    out: list[BlockChange] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out += [
                BlockChange(op="equal", index_before=i, index_after=j, before=a[i], after=b[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        old, new = list(range(i1, i2)), list(range(j1, j2))
        paired = min(len(old), len(new)) if op == "replace" else 0
        for i, j in zip(old[:paired], new[:paired], strict=True):
            out.append(
                BlockChange(
                    op="replace",
                    index_before=i,
                    index_after=j,
                    before=a[i],
                    after=b[j],
                    words=word_changes(a[i], b[j]),
                )
            )
        out += [
            BlockChange(op="delete", index_before=i, index_after=None, before=a[i], after=None)
            for i in old[paired:]
        ]
        out += [
            BlockChange(op="insert", index_before=None, index_after=j, before=None, after=b[j])
            for j in new[paired:]
        ]
    return out


def rebuild(changes: list[BlockChange], side: str) -> str:
    """One side (``before`` or ``after``) of a body, rebuilt from its block changes."""
    index = "index_before" if side == "before" else "index_after"
    kept = sorted((getattr(c, index), getattr(c, side)) for c in changes if getattr(c, index) is not None)
    return "".join(text for _, text in kept)


def field_changes(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """Changed leaves of two JSON values by JSON pointer (lists of equal length element by element)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}/{_escape(str(key))}"
            if key not in before:
                if after[key] is not None:
                    out.append(FieldChange(path=sub, before=None, after=after[key]))
            elif key not in after:
                if before[key] is not None:
                    out.append(FieldChange(path=sub, before=before[key], after=None))
            else:
                out += field_changes(before[key], after[key], sub)
        return out
    if (
        isinstance(before, list)
        and isinstance(after, list)
        and len(before) == len(after)
        and any(isinstance(x, dict) for x in before)
    ):
        out = []
        for n, (x, y) in enumerate(zip(before, after, strict=True)):
            out += field_changes(x, y, f"{path}/{n}")
        return out
    return [] if before == after else [FieldChange(path=path or "/", before=before, after=after)]


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _value_words(value: Any) -> int:
    if isinstance(value, str):
        return words(value)
    if isinstance(value, dict):
        return sum(_value_words(v) for v in value.values())
    if isinstance(value, list):
        return sum(_value_words(v) for v in value)
    return 0 if value is None else 1


def item_diff(change: ItemChange) -> ItemDiff:
    """The diff of one item of a change set."""
    before = dict(change.before or {})
    after = dict(change.after)
    body_blocks: list[BlockChange] = []
    added = removed = 0
    if change.kind == "article":
        old_body, new_body = before.pop("body", ""), after.pop("body", "")
        body_blocks = body_changes(old_body or "", new_body or "")
        for block in body_blocks:
            if block.op == "insert":
                added += words(block.after or "")
            elif block.op == "delete":
                removed += words(block.before or "")
            elif block.op == "replace":
                added += sum(words(w.text) for w in block.words if w.op == "insert")
                removed += sum(words(w.text) for w in block.words if w.op == "delete")
    fields = field_changes(before, after) if change.before is not None else field_changes({}, after)
    for field in fields:
        if isinstance(field.before, str) and isinstance(field.after, str):
            ops = word_changes(field.before, field.after)
            added += sum(words(w.text) for w in ops if w.op == "insert")
            removed += sum(words(w.text) for w in ops if w.op == "delete")
        else:
            added += _value_words(field.after) if field.after is not None else 0
            removed += _value_words(field.before) if field.before is not None else 0
    title = str(change.after.get("title") or change.external_id)
    return ItemDiff(
        kind=change.kind,
        external_id=change.external_id,
        action=change.action,
        title=title,
        fields=fields,
        blocks=body_blocks,
        words_added=added,
        words_removed=removed,
    )


def diff(changes: list[ItemChange]) -> Diff:
    items = [item_diff(c) for c in changes]
    return Diff(items=items, changed_words=sum(i.changed_words for i in items))


# ------------------------------------------------------------------------------------------ views


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_text(changes: Diff, *, context: int = 0) -> Text:
    """The diff for a terminal: deletions red and struck through, insertions green.

    Unchanged blocks are left out (``context`` of them are kept around each change).
    """
    out = Text()
    for item in changes.items:
        out.append(f"{item.kind} {item.external_id}", style="bold")
        out.append(f"  {item.action}  {item.title}  ")
        out.append(f"+{item.words_added}", style="green")
        out.append(" ")
        out.append(f"-{item.words_removed}", style="red")
        out.append(" words\n")
        for field in item.fields:
            out.append(f"  {field.path}: ")
            if field.before is not None:
                out.append(_short(field.before), style="red strike")
                out.append(" → ")
            out.append(_short(field.after) if field.after is not None else "(removed)", style="green")
            out.append("\n")
        changed = [n for n, b in enumerate(item.blocks) if b.op != "equal"]
        keep = {n + d for n in changed for d in range(-context, context + 1)}
        skipped = 0
        for n, block in enumerate(item.blocks):
            if n not in keep:
                skipped += 1
                continue
            if skipped:
                out.append(f"  … {skipped} unchanged block{'s' if skipped > 1 else ''}\n", style="dim")
                skipped = 0
            out.append("  ")
            if block.op == "equal":
                out.append((block.after or "").rstrip() + "\n", style="dim")
            elif block.op == "insert":
                out.append((block.after or "").rstrip() + "\n", style="green")
            elif block.op == "delete":
                out.append((block.before or "").rstrip() + "\n", style="red strike")
            else:
                for word in block.words:
                    style = {"equal": "", "insert": "green", "delete": "red strike"}[word.op]
                    out.append(word.text, style=style)
                if not out.plain.endswith("\n"):
                    out.append("\n")
        if skipped:
            out.append(f"  … {skipped} unchanged block{'s' if skipped > 1 else ''}\n", style="dim")
    return out


def _document(kind: str, content: dict[str, Any] | None) -> list[str]:
    if content is None:
        return []
    if kind == "article":
        rest = {k: v for k, v in content.items() if k not in ("title", "body")}
        head = f"# {content.get('title', '')}\n" + "".join(f"{k}: {v}\n" for k, v in sorted(rest.items()))
        return (head + "\n" + str(content.get("body", ""))).splitlines(keepends=True)
    return (json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n").splitlines(
        keepends=True
    )


def render_unified(changes: list[ItemChange]) -> str:
    """A unified diff of every item (articles as title, fields and body; the rest as JSON)."""
    parts: list[str] = []
    for change in changes:
        version = f"@v{change.base_version}" if change.base_version else " (new)"
        parts += difflib.unified_diff(
            _document(change.kind, change.before),
            _document(change.kind, change.after),
            fromfile=f"a/{change.kind}/{change.external_id}{version}",
            tofile=f"b/{change.kind}/{change.external_id}",
        )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in parts
    )
