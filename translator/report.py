"""The typed evaluate report: report → systems → results per test set, and its one JSON format.

``evaluate_systems`` returns an :class:`EvaluationReport`; ``to_dict``/``from_dict`` convert it to and from the
JSON written by ``python -m translator evaluate`` (and shipped in ``benchmarks/results/``), and
:func:`json_schema` derives the JSON Schema of that format from the same dataclasses, so the types, the files
and the schema cannot disagree. Reading ignores unknown keys and fails with :class:`ReportError` on a missing
or mistyped one.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin, get_type_hints

if TYPE_CHECKING:
    from .engine import EngineInfo


class ReportError(ValueError):
    """A JSON document that is not an evaluate report."""


@dataclass
class Latency:
    """Batch-1 latency over the first ``sentences`` sentences, in milliseconds."""

    p50: float
    p95: float
    mean: float
    sentences: int


@dataclass
class Throughput:
    sentences_per_s: float
    target_words_per_s: float
    seconds: float


@dataclass
class Bucket:
    """Scores of one source-length bucket (source words)."""

    sentences: int
    bleu: float
    latency_p50_ms: float | None


@dataclass
class Speedup:
    """This system against one AR system of the same run: >1 = faster."""

    latency_p50: float
    throughput_16: float | None = None
    throughput_64: float | None = None


@dataclass
class Result:
    """One system on one test set. The quality fields stay None until every system of the test set has run
    (the paired bootstrap needs them all): a partial report has results without them."""

    latency_ms: Latency
    throughput: dict[str, Throughput]  # batch size ("16", "64") -> throughput
    repeated_token_rate: float
    outputs: list[str]
    length_buckets: dict[str, Bucket] = field(default_factory=dict)
    peak_memory_mb: float | None = None
    bleu: float | None = None
    bleu_ci95: list[float] | None = None
    bleu_p_vs_baseline: float | None = None
    bleu_signature: str | None = None
    chrf: float | None = None
    chrf_ci95: list[float] | None = None
    chrf_p_vs_baseline: float | None = None
    chrf_signature: str | None = None
    speedup: dict[str, Speedup] = field(default_factory=dict)  # AR system label -> ratios

    @property
    def scored(self) -> bool:
        return self.bleu is not None and self.chrf is not None


@dataclass
class EngineSummary:
    """``EngineInfo.as_dict()`` of the measured engine."""

    name: str
    family: str
    architecture: str
    source_lang: str
    target_lang: str
    pair: str
    parameters: int | None = None
    description: str = ""
    max_input_tokens: int | None = None
    decoding_defaults: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_info(cls, info: EngineInfo) -> EngineSummary:
        return _convert(cls, info.as_dict(), "engine")


@dataclass
class Footprint:
    parameters: int | None
    size_mb: float | None


@dataclass
class SystemReport:
    name: str
    label: str
    engine: EngineSummary
    decoding: dict[str, Any]  # the options asked for
    decoding_effective: dict[str, Any] = field(default_factory=dict)  # the engine's defaults + the options
    precision: str = "default"
    model: Footprint | None = None
    results: dict[str, Result] = field(default_factory=dict)  # test set id -> result


@dataclass
class Environment:
    date: str
    cpu: str
    cpu_count: int | None
    gpu: str | None
    threads: int
    torch: str
    transformers: str
    sacrebleu: str
    git_commit: str | None
    python: str = ""


@dataclass
class TestSetInfo:
    sentences: int
    sha256: str


@dataclass
class Segments:
    """Sources and references of a test set, kept by callers that show outputs next to them (the dashboard)."""

    sources: list[str]
    references: list[str]


@dataclass
class EvaluationReport:
    protocol: str
    environment: Environment
    baseline: str  # label of the first system
    test_sets: dict[str, TestSetInfo]
    systems: list[SystemReport]
    partial: bool = False  # written while the run is still going
    segments: dict[str, Segments] = field(default_factory=dict)

    @property
    def pair(self) -> str:
        return self.systems[0].engine.pair

    def system(self, label: str) -> SystemReport:
        for system in self.systems:
            if system.label == label:
                return system
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if not self.segments:
            del data["segments"]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: object) -> EvaluationReport:
        return _convert(cls, data, "report")

    @classmethod
    def load(cls, path: str | Path) -> EvaluationReport:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ReportError(f"{path}: {exc}") from None
        try:
            return cls.from_dict(data)
        except ReportError as exc:
            raise ReportError(f"{path}: {exc}") from None


def _convert(tp: Any, value: object, where: str) -> Any:
    """``value`` (parsed JSON) as type ``tp``; ReportError names the path of the first mismatch."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ReportError(f"{where}: expected an object, got {type(value).__name__}")
        hints = get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in value:
                kwargs[f.name] = _convert(hints[f.name], value[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ReportError(f"{where}: missing {f.name!r}")
        return tp(**kwargs)  # type: ignore[operator]  # tp is a dataclass type here
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in get_args(tp):
            return None
        (inner,) = [a for a in get_args(tp) if a is not type(None)]
        return _convert(inner, value, where)
    if origin is dict:
        if not isinstance(value, dict):
            raise ReportError(f"{where}: expected an object")
        _, item = get_args(tp)
        return {str(k): _convert(item, v, f"{where}.{k}") for k, v in value.items()}
    if origin is list:
        if not isinstance(value, list):
            raise ReportError(f"{where}: expected a list")
        (item,) = get_args(tp)
        return [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if tp is Any:
        return value
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and type(value) is tp:
        return value
    raise ReportError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r:.40}")


def _schema(tp: Any) -> dict[str, Any]:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        fields = dataclasses.fields(tp)
        return {
            "type": "object",
            "properties": {f.name: _schema(hints[f.name]) for f in fields},
            "required": [
                f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ],
        }
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema(a) for a in get_args(tp)]}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(get_args(tp)[1])}
    if origin is list:
        return {"type": "array", "items": _schema(get_args(tp)[0])}
    simple = {float: "number", int: "integer", str: "string", bool: "boolean", type(None): "null"}
    if tp in simple:
        return {"type": simple[tp]}
    return {}  # Any


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an evaluate report, derived from the dataclasses above."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "evaluate report"} | _schema(
        EvaluationReport
    )
