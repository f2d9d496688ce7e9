"""What the stages of one compilation share: the sink, the policy index, what was used,
and the scope of `$names` at each point of the plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from policies.compiler.index import PolicyIndex
from policies.compiler.sink import DiagnosticSink
from policies.plan import OfferNode


class Scope:
    """What `$names` are bound at a point of the plan, with their result models."""

    def __init__(self, names: dict[str, type[BaseModel] | None]) -> None:
        self.names = dict(names)

    def child(self) -> Scope:
        return Scope(self.names)

    def bind(self, name: str, model: type[BaseModel] | None = None) -> None:
        self.names[name] = model

    def has(self, path: str) -> bool:
        return path.split(".")[0] in self.names


@dataclass(frozen=True)
class OptionsAsked:
    """The latest question or offer with options: what a choice condition after it reads."""

    step: str
    var: list[str]  # context path the answer is stored under
    #: (what the answer is stored as, the label the customer reads)
    options: list[tuple[str, str]]
    #: the offer itself, when it was one (an accept branch after it may apply it instead)
    offer: OfferNode | None = None
    #: the question is in a step kept as a note (its condition could not be read)
    lost: bool = False


@dataclass(frozen=True)
class AssumedPlatform:
    """A role the front matter left empty, filled from the deployment's default platforms
    when the first tool that needs it (`tool` at `line`) was bound."""

    role: str
    platform: str
    tool: str
    line: int


@dataclass
class CompileState:
    """Filled in as the stages run; the pipeline turns it into the plan's header."""

    sink: DiagnosticSink
    index: PolicyIndex
    platforms: list[str] = field(default_factory=list)
    #: the deployment's platforms for a role the front matter leaves empty (the caller's
    #: setting, passed in: the compiler reads no settings)
    default_platforms: list[str] = field(default_factory=list)
    assumed: list[AssumedPlatform] = field(default_factory=list)
    tools_used: set[str] = field(default_factory=set)
    policies_used: list[str] = field(default_factory=list)
    #: what the policy is about (id, title, ticket types), for wording that depends on it
    situation: str = ""
    #: the last ask or offer with options compiled so far, in source order
    last_options: OptionsAsked | None = None
