"""The reference of every scenario key, generated from the schema, and the refresh of the generated
tables in the documentation (``docs/scenario-reference.md``: keys; ``docs/outputs.md``: metrics).

``airlift keys`` prints the key table; ``python -m sim.description.key_table`` rewrites the docs' copies
(``--check`` only reports stale ones), and a test keeps them identical, so the docs cannot drift from the code.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim.description.scenario import Scenario

__all__ = ["scenario_keys", "keys_markdown", "GENERATED_FILES", "generated_tables", "marked_table", "refreshed", "main"]


def _type(ann: Any) -> str:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        base, *meta = args
        bounds = []
        for m in meta:
            for attr in getattr(m, "metadata", [m]):
                for op, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
                    v = getattr(attr, op, None)
                    if v is not None:
                        bounds.append(f"{sym} {_num(v)}")
                if getattr(attr, "min_length", None):
                    bounds.append(f"at least {attr.min_length}")
        return _type(base) + (f" ({', '.join(bounds)})" if bounds else "")
    if origin in (types.UnionType, typing.Union):
        parts = [a for a in args if a is not type(None)]
        if {_bare(a) for a in parts} == {datetime, float}:
            s = "time"
        elif all(isinstance(a, type) and issubclass(a, BaseModel) for a in parts):
            s = "table"  # one of several kinds of table (disruptions)
        else:
            s = " or ".join(_type(a) for a in parts)
        return s + (", optional" if type(None) in args else "")
    if origin is typing.Literal:
        return " / ".join(f'"{a}"' for a in args)
    if origin is list or origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"list of {_type(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(_type(a) for a in args) + "]"
    if origin in (dict, Mapping):
        return f"table of {_type(args[1])}"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "table"
    return {float: "number", int: "integer", str: "string", bool: "boolean", datetime: "datetime"}.get(ann, str(ann))


def _num(v: Any) -> str:
    """A bound for people: ``10,000,000``, ``0.5``."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"


def _bare(ann: Any) -> Any:
    while typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    return ann


def _bounds(metadata: list[Any]) -> str:
    out = []
    for m in metadata:
        for op, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            v = getattr(m, op, None)
            if v is not None:
                out.append(f"{sym} {_num(v)}")
    return f" ({', '.join(out)})" if out else ""


def _default(f: Any) -> str:
    if f.is_required():
        return "required"
    d = f.default if f.default is not PydanticUndefined else f.default_factory()
    if isinstance(d, BaseModel):
        return "(see below)"
    if d is None:
        return "none"
    if not isinstance(d, str) and hasattr(d, "__len__") and len(d) == 0:
        return "empty"
    return f"`{_lists(d)!r}`".replace("'", '"') if not isinstance(d, bool) else f"`{str(d).lower()}`"


def _lists(d: Any) -> Any:
    """Tuples shown as TOML writes them: ``("any",)`` as ``["any"]``."""
    return [_lists(x) for x in d] if isinstance(d, tuple) else d


def scenario_keys(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """``(dotted key, type, default, meaning)`` for every key, in schema order."""
    rows = []
    for name, f in model.model_fields.items():
        key = prefix + (f.alias or name)
        ann = f.annotation
        bare = _bare(ann)
        inner = typing.get_args(bare)
        sub = None
        if typing.get_origin(bare) in (types.UnionType, typing.Union):
            members = [a for a in inner if a is not type(None)]
            if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel):
                bare = members[0]  # an optional table (absent: none): its keys are listed too
        if isinstance(bare, type) and issubclass(bare, BaseModel):
            sub, key_next = bare, key + "."
        elif typing.get_origin(bare) in (dict, Mapping):
            val = inner[1]
            if isinstance(val, type) and issubclass(val, BaseModel):
                sub, key_next = val, f"{key}.<name>."
        elif (one := _table_or_list(bare)) is not None:
            sub, key_next = one, key + "."  # its keys as one table writes them; a list's as ``<key>.<i>.``
        elif typing.get_origin(bare) in (list, tuple) and name == "disruptions":
            kinds, key_next = typing.get_args(_bare(inner[0])), f"{key}.<i>."
        rows.append((key, _type(ann) + _bounds(f.metadata), _default(f), (f.description or "").replace("\n", " ")))
        if sub is not None:
            rows.extend(scenario_keys(sub, key_next))
        elif name == "disruptions":
            rows.extend(_kinds_keys(kinds, key_next))
    return rows


def _table_or_list(ann: Any) -> type[BaseModel] | None:
    """The model of a key written either as one table of it or as a list of such tables (``retrograde``)."""
    if typing.get_origin(ann) not in (types.UnionType, typing.Union):
        return None
    parts = [_bare(a) for a in typing.get_args(ann) if a is not type(None)]
    if len(parts) != 2 or not (isinstance(parts[0], type) and issubclass(parts[0], BaseModel)):
        return None
    many = typing.get_args(parts[1]) if typing.get_origin(parts[1]) in (list, tuple) else ()
    return parts[0] if many and _bare(many[0]) is parts[0] else None


def _kinds_keys(kinds: tuple[type[BaseModel], ...], prefix: str) -> list[tuple[str, str, str, str]]:
    """The keys of a list of models told apart by ``kind`` (disruptions): every kind in one row,
    the keys all kinds share once, then each key that is a kind's own, marked with the kind."""
    names = [typing.get_args(m.model_fields["kind"].annotation)[0] for m in kinds]
    doc = " ".join((m.model_fields["kind"].description or "").replace("\n", " ") for m in kinds)
    per_kind = [[r for r in scenario_keys(m, prefix) if r[0] != prefix + "kind"] for m in kinds]
    shared = [r for r in per_kind[0] if all(r in rows for rows in per_kind)]
    own = [(k, t, d, f"(``{n}``) {m}") for n, rows in zip(names, per_kind) for k, t, d, m in rows if (k, t, d, m) not in shared]
    return [(prefix + "kind", " / ".join(f'"{n}"' for n in names), "required", doc), *shared, *own]


def keys_markdown() -> str:
    out = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, typ, default, doc in scenario_keys():
        doc = " ".join(doc.split()).replace("|", "\\|")
        out.append(f"| `{key}` | {typ.replace('|', '/')} | {default} | {doc} |")
    return "\n".join(out) + "\n"


# The documentation files holding generated tables, relative to the repository root, and the markers
# (``<!-- NAME:start -->`` ... ``<!-- NAME:end -->``) of the tables each holds.
GENERATED_FILES: dict[str, tuple[str, ...]] = {
    "docs/scenario-reference.md": ("keys",),
    "docs/outputs.md": ("metrics",),
}


def generated_tables() -> dict[str, str]:
    """Every generated table by marker name: ``keys`` (the scenario keys) and ``metrics`` (the metric catalogue)."""
    from sim.description.metric_catalog import metrics_markdown

    return {"keys": keys_markdown(), "metrics": metrics_markdown()}


def marked_table(text: str, marker: str) -> str | None:
    """The text between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` (None if either is missing)."""
    _, found, rest = text.partition(f"<!-- {marker}:start -->\n")
    table, closed, _ = rest.partition(f"<!-- {marker}:end -->")
    return table if found and closed else None


def refreshed(text: str, source: str) -> str:
    """``text`` with every generated table it marks replaced by the current one; ValueError naming
    ``source`` if it marks none (or opens a marker it never closes)."""
    tables = generated_tables()
    markers = [m for m in tables if f"<!-- {m}:start -->" in text or f"<!-- {m}:end -->" in text]
    if not markers:
        raise ValueError(f"{source}: no generated table in it (known markers: {', '.join(tables)})")
    for marker in markers:
        if marked_table(text, marker) is None:
            raise ValueError(f"{source}: <!-- {marker}:start --> and <!-- {marker}:end --> must both be there, in that order")
        head, _, rest = text.partition(f"<!-- {marker}:start -->\n")
        _, _, tail = rest.partition(f"<!-- {marker}:end -->")
        text = f"{head}<!-- {marker}:start -->\n{tables[marker]}<!-- {marker}:end -->{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated tables of FILE... (default: :data:`GENERATED_FILES`, paths relative to the current
    directory: run it from the repository root); with ``--check``, write nothing and exit 1 if any is stale.
    Exit 2 on a missing file or marker."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="python -m sim.description.key_table", description="Rewrite the tables generated from the code in the documentation."
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="default: " + ", ".join(GENERATED_FILES))
    parser.add_argument("--check", action="store_true", help="report stale tables, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name in args.files or list(GENERATED_FILES):
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
            new = refreshed(text, name)
        except (OSError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        if new != text:
            stale.append(name)
            if not args.check:
                path.write_text(new, encoding="utf-8")
        print(f"{name}: {'up to date' if new == text else 'stale' if args.check else 'updated'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
