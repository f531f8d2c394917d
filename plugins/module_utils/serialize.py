# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model as JSON-ready data, back again, and the JSON Schema of that data.

The serialised form is what ``devops-flow parse``, the ``spec_info`` module and
the ``spec`` lookup return; scripts may rely on its names.  Two fields differ
from the dataclasses:

* ``sources`` maps a field path to ``"file:line"`` and ``source_sections``
  maps the same path to the document section;
* ``traceability.tags`` maps a tag kind to its values (``{"brd": [...]}``);
  where each tag was is in ``sources`` under ``traceability.tags.<kind>[i]``.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import typing
from typing import Any, Dict, List, Tuple

from .errors import Finding
from .model import MODEL_VERSION, FrozenMap, Model, Source, Tag, Traceability

_NONE_TYPE = type(None)
_SCALARS = (str, int, float, bool, _NONE_TYPE)


def to_data(value: Any) -> Any:
    """Plain JSON-ready data for any model part (dataclass, tuple, map, scalar)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Finding):
        return value.to_dict()
    if isinstance(value, Traceability):
        return _traceability_data(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_data(v) for v in value]
    if isinstance(value, (dict, FrozenMap)):
        return {str(k): to_data(v) for k, v in value.items()}
    raise TypeError("cannot serialise %r" % type(value))


def _traceability_data(trace: Traceability) -> Dict[str, Any]:
    data: Dict[str, Any] = {}
    for f in dataclasses.fields(trace):
        if f.name == "tags":
            tags: Dict[str, List[str]] = {}
            for tag in trace.tags:
                values = tags.setdefault(tag.kind, [])
                if tag.value not in values:
                    values.append(tag.value)
            data["tags"] = tags
        else:
            data[f.name] = to_data(getattr(trace, f.name))
    return data


def model_to_dict(model: Model) -> Dict[str, Any]:
    """The serialised model: every field, ``warnings``, ``sources`` and
    ``source_sections``."""
    data: Dict[str, Any] = {"model_version": MODEL_VERSION}
    for f in dataclasses.fields(model):
        if f.name == "sources":
            continue
        data[f.name] = to_data(getattr(model, f.name))
    sources: Dict[str, str] = {}
    sections: Dict[str, str] = {}
    for path, src in model.sources.items():
        sources[path] = src.ref()
        if src.section:
            sections[path] = src.section
    # where each tag was written
    for tag in model.traceability.tags:
        values = data["traceability"]["tags"][tag.kind]
        index = values.index(tag.value)
        key = "traceability.tags.%s[%d]" % (tag.kind, index)
        if key not in sources and tag.file:
            sources[key] = Source(tag.file, tag.line).ref()
    data["sources"] = dict(sorted(sources.items(), key=lambda kv: _path_key(kv[0])))
    data["source_sections"] = dict(sorted(sections.items(), key=lambda kv: _path_key(kv[0])))
    return data


def _path_key(path: str) -> Tuple[Any, ...]:
    parts: List[Any] = []
    for token in re.split(r"(\[\d+\])", path):
        if token.startswith("[") and token.endswith("]"):
            parts.append((1, int(token[1:-1]), ""))
        elif token:
            parts.append((0, 0, token))
    return tuple(parts)


# --------------------------------------------------------------------------- from data


def _hints(cls: Any) -> Dict[str, Any]:
    module = sys.modules[cls.__module__]
    return typing.get_type_hints(cls, globalns=vars(module))


def _from_data(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin is typing.Union:
        if value is None:
            return None
        inner = [a for a in args if a is not _NONE_TYPE]
        return _from_data(inner[0], value)
    if origin in (tuple, Tuple):
        item = args[0] if args else Any
        return tuple(_from_data(item, v) for v in (value or ()))
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if isinstance(value, dict) and f.name in value:
                kwargs[f.name] = _from_data(hints[f.name], value[f.name])
        return typing.cast(Any, tp)(**kwargs)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _parse_ref(ref: str) -> Tuple[str, int]:
    m = re.match(r"^(.*):(\d+)$", ref)
    if m:
        return m.group(1), int(m.group(2))
    return ref, 0


def model_from_dict(data: Dict[str, Any]) -> Model:
    """Rebuild a ``Model`` from ``model_to_dict`` output (for example the JSON of
    ``devops-flow parse`` or the result of ``spec_info``)."""
    if not isinstance(data, dict) or "service" not in data:
        raise ValueError("expected a serialised model (a mapping with a 'service' key)")
    hints = _hints(Model)
    kwargs: Dict[str, Any] = {}
    raw_sources = data.get("sources") or {}
    sections = data.get("source_sections") or {}
    for f in dataclasses.fields(Model):
        if f.name in ("sources", "warnings", "traceability") or f.name not in data:
            continue
        kwargs[f.name] = _from_data(hints[f.name], data[f.name])
    kwargs["warnings"] = tuple(
        Finding(
            w.get("message", ""),
            w.get("file", ""),
            int(w.get("line", 0) or 0),
            w.get("severity", "warning"),
            w.get("section", ""),
            w.get("code", ""),
            w.get("tool", ""),
        )
        for w in data.get("warnings") or ()
    )
    trace = dict(data.get("traceability") or {})
    tag_map = trace.pop("tags", {}) or {}
    trace_obj = _from_data(Traceability, trace)
    tags: List[Tag] = []
    for kind, values in tag_map.items():
        for i, value in enumerate(values):
            file, line = _parse_ref(raw_sources.get("traceability.tags.%s[%d]" % (kind, i), ""))
            tags.append(Tag(kind, value, file, line))
    kwargs["traceability"] = dataclasses.replace(trace_obj, tags=tuple(tags))
    srcs: Dict[str, Source] = {}
    for path, ref in raw_sources.items():
        if path.startswith("traceability.tags."):
            continue
        file, line = _parse_ref(ref)
        srcs[path] = Source(file, line, sections.get(path, ""))
    kwargs["sources"] = FrozenMap(srcs)
    return Model(**kwargs)


# --------------------------------------------------------------------------- JSON Schema


def _schema_for(tp: Any, defs: Dict[str, Any]) -> Dict[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is Any:
        return {}
    if origin is typing.Union:
        inner = [a for a in args if a is not _NONE_TYPE]
        schema = _schema_for(inner[0], defs)
        if "$ref" in schema:
            return {"anyOf": [schema, {"type": "null"}]}
        schema = dict(schema)
        kind = schema.get("type")
        if isinstance(kind, str):
            schema["type"] = [kind, "null"]
        return schema
    if origin in (tuple, Tuple):
        return {"type": "array", "items": _schema_for(args[0], defs) if args else {}}
    if dataclasses.is_dataclass(tp):
        name = typing.cast(type, tp).__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            defs[name] = _object_schema(tp, defs)
        return {"$ref": "#/$defs/%s" % name}
    raise TypeError("no schema for %r" % (tp,))


def _object_schema(cls: Any, defs: Dict[str, Any]) -> Dict[str, Any]:
    hints = _hints(cls)
    props: Dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if cls is Traceability and f.name == "tags":
            props["tags"] = {
                "type": "object",
                "description": "tag kind (brd, prd, adr, sys, threshold, ...) -> values",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
            continue
        props[f.name] = _schema_for(hints[f.name], defs)
    schema: Dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": sorted(props),
        "additionalProperties": False,
    }
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    if doc and not doc.startswith(cls.__name__ + "("):
        schema["description"] = " ".join(doc.split())
    return schema


def model_json_schema() -> Dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``model_to_dict`` output."""
    defs: Dict[str, Any] = {}
    finding = {
        "type": "object",
        "properties": {
            "severity": {"enum": ["error", "warning", "info"]},
            "message": {"type": "string"},
            "file": {"type": "string"},
            "line": {"type": "integer", "minimum": 0},
            "section": {"type": "string"},
            "code": {"type": "string"},
            "tool": {"type": "string"},
        },
        "required": ["severity", "message", "file", "line"],
        "additionalProperties": False,
    }
    hints = _hints(Model)
    props: Dict[str, Any] = {"model_version": {"const": MODEL_VERSION}}
    for f in dataclasses.fields(Model):
        if f.name == "sources":
            continue
        if f.name == "warnings":
            props["warnings"] = {"type": "array", "items": finding}
            continue
        props[f.name] = _schema_for(hints[f.name], defs)
    props["sources"] = {
        "type": "object",
        "description": "field path -> file:line of the document the value came from",
        "additionalProperties": {"type": "string", "pattern": r"^.+(:[0-9]+)?$"},
    }
    props["source_sections"] = {
        "type": "object",
        "description": "field path -> document section the value came from",
        "additionalProperties": {"type": "string"},
    }
    schema: Dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sdd.devops-flow/schemas/model.schema.json",
        "title": "sdd.devops_flow deployment model",
        "description": "The model devops-flow parse prints and spec_info returns.",
        "type": "object",
        "properties": props,
        "required": sorted(props),
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }
    _tighten(schema)
    return schema


def _tighten(schema: Dict[str, Any]) -> None:
    """Domain constraints the type hints cannot say."""
    from .model import CLOUD_RULES, CLOUDS, STRATEGIES

    defs = schema["$defs"]
    defs["Cloud"]["properties"]["provider"] = {"enum": list(CLOUDS) + [None]}
    defs["Cloud"]["properties"]["decided_by"] = {"enum": list(CLOUD_RULES)}
    defs["Environment"]["properties"]["strategy"] = {"enum": list(STRATEGIES) + [None]}
    defs["Service"]["properties"]["ports"] = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 65535},
    }
    defs["Environment"]["properties"]["replicas"] = {"type": ["integer", "null"], "minimum": 0}
    defs["Rollout"]["properties"]["canary_steps"] = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 100},
    }
    defs["Observability"]["properties"]["tracing_sample_rate"] = {
        "type": ["number", "null"],
        "minimum": 0,
        "maximum": 1,
    }


def dumps_json(data: Any) -> str:
    """Deterministic JSON text (sorted only where the model has no order)."""
    import json

    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "dumps_json",
    "model_from_dict",
    "model_json_schema",
    "model_to_dict",
    "to_data",
]
