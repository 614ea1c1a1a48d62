"""The emulator's models: what `ollama pull` has put on the server, and how each answers.

Tests change the shelf while the server runs (`shelf.pull("mistral:7b")`), as a user who
pulls a model while `jackfield serve` is up would.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# What /api/show says a model can do, as Ollama words it.
KNOWN_CAPABILITIES = frozenset({"completion", "embedding", "tools", "vision", "thinking"})


@dataclass
class PulledModel:
    """One model on the server: its name, what it can do, its family."""

    name: str
    capabilities: tuple[str, ...] = ("completion",)
    family: str = "llama"
    # After this many streamed pieces the server fails and says so in an {"error"} line.
    fails_after: int | None = None

    def __post_init__(self) -> None:
        unknown = set(self.capabilities) - KNOWN_CAPABILITIES
        if unknown:
            raise ValueError(f"unknown capabilities {sorted(unknown)}")

    def can(self, capability: str) -> bool:
        """Return True if /api/show lists capability for this model."""
        return capability in self.capabilities

    def listing(self) -> dict[str, Any]:
        """Return the model's entry in /api/tags."""
        digest = hashlib.sha256(self.name.encode()).hexdigest()
        return {"name": self.name, "model": self.name, "modified_at": "2026-12-01T00:00:00Z",
                "size": 2_019_393_189, "digest": digest, "details": self.details()}

    def details(self) -> dict[str, Any]:
        """Return the `details` object Ollama attaches to a model."""
        return {"parent_model": "", "format": "gguf", "family": self.family,
                "families": [self.family], "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M"}


DEFAULT_MODELS = (
    PulledModel("llama3.2:3b", ("completion", "tools")),
    PulledModel("llava:7b", ("completion", "vision"), family="llava"),
    PulledModel("qwen3:8b", ("completion", "tools", "thinking"), family="qwen3"),
    PulledModel("nomic-embed-text:latest", ("embedding",), family="nomic-bert"),
)


@dataclass
class Shelf:
    """The models the server has, by name; `name` alone means `name:latest`, as in Ollama."""

    models: dict[str, PulledModel] = field(default_factory=dict)

    @classmethod
    def of(cls, models: Iterable[PulledModel]) -> Shelf:
        """Return a shelf holding models."""
        return cls({model.name: model for model in models})

    def pull(self, name: str, *capabilities: str, family: str = "llama") -> PulledModel:
        """Add a model (a completion model unless capabilities say otherwise)."""
        model = PulledModel(name, capabilities or ("completion",), family)
        self.models[name] = model
        return model

    def remove(self, name: str) -> None:
        """Delete a model, as `ollama rm` does."""
        del self.models[name]

    def find(self, name: str) -> PulledModel | None:
        """Return the model a request names, or None."""
        return self.models.get(name) or (None if ":" in name else
                                         self.models.get(f"{name}:latest"))


def vector(text: str, dimensions: int) -> list[float]:
    """Return a deterministic unit vector for text: the same text, the same vector."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        block = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values += [byte / 127.5 - 1.0 for byte in block]
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


def sample(schema: Mapping[str, Any] | None, text: str) -> Any:
    """Return a value that fits a (simple) JSON schema, built from text."""
    if not schema:
        return {"answer": text}
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {key: sample(sub, text) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema.get("items", {"type": "string"}), text)]
    if kind in ("integer", "number"):
        return len(text.split())
    if kind == "boolean":
        return True
    return text


def describe_image(data: bytes) -> str:
    """Say what an image is, as a vision model would: a PNG's size, or its byte count."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return f"a {width}x{height} PNG image"
    return f"an image of {len(data)} bytes"
