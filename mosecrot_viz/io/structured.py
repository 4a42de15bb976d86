"""JSON and YAML read within limits: file size, nesting depth and (YAML) aliases, each refused in one line.

Every structured file the package reads back (a grid's YAML, a run folder's results.json, analysis.json,
anchors.json) goes through `load_json` or `load_yaml`, so a hostile or runaway file costs at most its size
limit and never a traceback:

- size: checked from `stat` before a byte is read ($MOSECROT_MAX_JSON_MB, $MOSECROT_MAX_YAML_MB);
- depth: Python's parsers recurse once per level, so `[[[[...` ends in a RecursionError; deeper than
  $MOSECROT_MAX_NESTING is a `LimitError` naming the file;
- aliases: a YAML alias repeats a whole earlier value, and ten levels of ten aliases stand for 10^10
  values from 660 bytes; the values a document stands for once its aliases are expanded are counted on
  the composed node graph (shared nodes counted once per use) before anything is constructed, and
  more than $MOSECROT_MAX_YAML_NODES is refused, as is an alias that refers to itself.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from mosecrot_viz.errors import FormatError, LimitError
from mosecrot_viz.io.limits import (
    check_file_size,
    check_regular_file,
    max_json_bytes,
    max_json_containers,
    max_nesting,
    max_yaml_bytes,
    max_yaml_nodes,
    memory_error_as_limit,
    strip_bom,
)

_MEMORY_HINT = "larger than this machine can parse: set {} lower to refuse such files before reading them"


def _too_deep(path, limit: int) -> LimitError:
    return LimitError(f"nested more than {limit:,} levels deep: not a file this program wrote? "
                      "(limit: set MOSECROT_MAX_NESTING)", path)


def _depth(obj, limit: int) -> int:
    """The nesting depth of parsed JSON (lists and dicts), without recursion; stops past `limit`."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > deepest:
            deepest = d
            if deepest > limit:
                return deepest
        children = o.values() if isinstance(o, dict) else o
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


class _NonFinite(ValueError):
    """A NaN, Infinity or overflowing number (1e999) met while parsing: its text is the literal."""


def _refuse_constant(literal: str):
    raise _NonFinite(literal)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value - value != 0:  # inf - inf and nan - nan are NaN
        raise _NonFinite(literal)
    return value


def load_json(path: str | os.PathLike, *, kind: str = "JSON"):
    """The parsed content of JSON file `path`, within the size and nesting limits.

    Raises `PathError` for a missing or irregular file (a FIFO never blocks here), `LimitError` past
    $MOSECROT_MAX_JSON_MB, $MOSECROT_MAX_JSON_VALUES or $MOSECROT_MAX_NESTING, `FormatError` for text that is not UTF-8 JSON
    or that holds a non-finite number (NaN, Infinity, or a literal such as 1e999 that overflows to infinity).
    """
    path = check_regular_file(path, kind)
    size = check_file_size(path, max_json_bytes(), kind, "MOSECROT_MAX_JSON_MB")
    limit = max_nesting()
    with memory_error_as_limit(path, lambda: size, _MEMORY_HINT.format("MOSECROT_MAX_JSON_MB")):
        data = strip_bom(path.read_bytes())
        containers, most = data.count(b"[") + data.count(b"{"), max_json_containers()
        if containers > most:
            raise LimitError(f"holds {containers:,} lists and mappings, more than {most:,} (a run's results.json "
                             "holds a few thousand); raise MOSECROT_MAX_JSON_VALUES to read it", path)
        try:
            # bytes would be sniffed as UTF-16/32; NaN, Infinity and 1e999 are refused: every JSON file this program
            # writes is strict (atomic's writers), so one is an edit, and read as a float it printed as nan or inf
            obj = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
        except _NonFinite as exc:
            literal = str(exc)[:40]
            raise FormatError(f"holds the number {literal}, which is not finite: this program writes strict JSON "
                              "(no NaN or infinity), so the file was edited or is not one of its files", path) from None
        except RecursionError:
            raise _too_deep(path, limit) from None
        except UnicodeDecodeError as exc:
            raise FormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
        except json.JSONDecodeError as exc:
            raise FormatError(f"not valid JSON ({exc.msg})", path, exc.lineno) from None
        except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
            raise FormatError(f"not valid JSON ({str(exc).splitlines()[0]})", path) from None
        if isinstance(obj, (dict, list)) and _depth(obj, limit) > limit:
            raise _too_deep(path, limit)
    return obj


def _bounded_loader():
    """A yaml SafeLoader (pure Python, so its composer can be watched) that stops past the nesting limit."""
    import yaml

    class BoundedSafeLoader(yaml.SafeLoader):
        depth_limit = max_nesting()

        def __init__(self, stream, path):
            super().__init__(stream)
            self.depth, self.path = 0, path

        def compose_node(self, parent, index):
            self.depth += 1
            if self.depth > self.depth_limit:
                raise _too_deep(self.path, self.depth_limit)
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedSafeLoader


def _expanded_size(root, path, limit: int) -> int:
    """How many values the node graph under `root` stands for with every alias expanded (shared nodes once per use).

    Counted without recursion, memoised per node, so the count of 10^10 values costs a few hundred steps;
    an alias inside the value it names (`&a [*a]`) never ends when expanded and is refused.
    """
    import yaml

    size: dict[int, int] = {}
    on_path: set[int] = set()
    aliased = False  # a node reached twice: an alias used
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            total = 1 + sum(size[id(c)] for c in children)
            if total > limit:
                what = ("once its aliases (*name) are expanded: an alias bomb?" if aliased else
                        "(no aliases): far more than any grid of at most 10,000 trials needs")
                raise LimitError(f"stands for more than {limit:,} values {what} (limit: set MOSECROT_MAX_YAML_NODES)",
                                 path)
            size[key] = total
            continue
        if key in size:
            aliased = True
            continue
        if key in on_path:
            raise FormatError("an alias (*name) refers to the value that contains it: it never ends when expanded",
                              path)
        on_path.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            stack.extend((n, False) for pair in node.value for n in pair if id(n) not in size)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((n, False) for n in node.value if id(n) not in size)
    return size.get(id(root), 0)


def load_yaml(path: str | os.PathLike, *, kind: str = "YAML"):
    """The parsed content of YAML file `path` (safe types only), within the size, nesting and alias limits.

    Raises `PathError` for a missing or irregular file, `LimitError` past $MOSECROT_MAX_YAML_MB,
    $MOSECROT_MAX_NESTING or $MOSECROT_MAX_YAML_NODES, `FormatError` for text that is not UTF-8 YAML
    (one line: the parser's first line, with its position).
    """
    import yaml

    path = check_regular_file(path, kind)
    size = check_file_size(path, max_yaml_bytes(), kind, "MOSECROT_MAX_YAML_MB")
    try:
        text = strip_bom(path.read_bytes()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    loader = None
    with memory_error_as_limit(path, lambda: size, _MEMORY_HINT.format("MOSECROT_MAX_YAML_MB")):
        try:
            loader = _bounded_loader()(text, Path(path))  # its reader already refuses control characters
            node = loader.get_single_node()
            if node is None:
                return None
            _expanded_size(node, path, max_yaml_nodes())
            return loader.construct_document(node)
        except RecursionError:
            raise _too_deep(path, max_nesting()) from None
        except yaml.YAMLError as exc:
            problem, context = getattr(exc, "problem", None), getattr(exc, "context", None)
            said = " ".join(str(exc).split()) if problem is None else problem + (f" ({context})" if context else "")
            mark = getattr(exc, "problem_mark", None)
            raise FormatError(f"not valid YAML: {said}", path, mark.line + 1 if mark else None) from None
        finally:
            if loader is not None:
                loader.dispose()


def load_run_table(path: str | os.PathLike, columns: tuple, text: tuple, *, kind: str = "run table"):
    """A CSV table of a run folder (predictions.csv, ladder.csv) as a pandas frame holding `columns`, or None when
    the file is absent; within $MOSECROT_MAX_RUN_TABLE_MB. The `text` columns are strings as written (a label 'NA'
    or 'nan' stays that label, never a missing value); the others are numbers where every cell is one.

    Raises `LimitError` past the limit or when memory runs out, `FormatError` for text that is not a UTF-8 CSV,
    `SchemaError` when one of `columns` is missing, each naming the file. Why: these tables were read with a bare
    `pd.read_csv`, so a tampered one was a pandas traceback or a MemoryError naming no file.
    """
    import pandas as pd

    from mosecrot_viz.errors import SchemaError
    from mosecrot_viz.io.limits import max_run_table_bytes

    if not Path(path).exists():
        return None
    path = check_regular_file(path, kind)
    size = check_file_size(path, max_run_table_bytes(), kind, "MOSECROT_MAX_RUN_TABLE_MB")
    with memory_error_as_limit(path, lambda: size * 8, "set MOSECROT_MAX_RUN_TABLE_MB lower to refuse such files "
                               "before reading them"):
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
            raise FormatError(f"not a readable CSV table ({str(exc).splitlines()[0][:160]})", path) from None
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise SchemaError(f"{kind} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (was "
                              "it edited? run it again)", path)
        for c in df.columns:
            if c not in text:
                given = df[c] != ""
                numbers = pd.to_numeric(df[c].where(given), errors="coerce")
                if int(numbers.notna().sum()) == int(given.sum()):
                    df[c] = numbers
    return df
