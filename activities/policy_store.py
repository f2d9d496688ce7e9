"""Policy activities: route a ticket to a policy, and hand the workflow a compiled plan.

The library is compiled here, outside the workflow, and a plan reaches the workflow as an
activity result, so it lands in the ticket's history: a running ticket stays pinned to
the version it started with even after the library changes.

With a policy store (`PolicyVersions`, activities/policy_versions.py; the production
worker has one) plans come from the app database: by (policy id, version hash) when the
ticket's start names the version, else the version published now; routing uses the
published set. The bundled library is the fallback.
"""

from __future__ import annotations

import asyncio
import re

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.experiments import Assignment, assign
from activities.language_model import LanguageModel
from activities.policy_versions import PolicyVersions
from activities.routing import Embedder, MeaningRouter
from policies.library import PolicyLibrary, load_library
from policies.plan import Plan

#: The `load_policy` failure type when the library has no such (compilable) policy.
POLICY_NOT_FOUND = "PolicyNotFound"


class RouteRequest(BaseModel):
    text: str
    helpdesk: str
    ticket_type: str | None = None
    policy_id: str | None = None
    choices: list[str] = Field(
        default_factory=list,
        description="the policies a disambiguation question named: `text` answers it",
    )


class MenuItem(BaseModel):
    policy_id: str
    title: str
    about: str = Field(default="", description="the customer's words for it")


class RouteResult(BaseModel):
    policy_id: str | None
    how: str = Field(
        description="policy_id | ticket_type | menu | trigger | meaning | choice | ambiguous | "
        "none | model (the language model picked one of the candidates the router named)"
    )
    menu: list[MenuItem] = Field(default_factory=list)
    candidates: list[MenuItem] = Field(
        default_factory=list, description="ambiguous: the two policies to ask between"
    )
    later: str | None = Field(
        default=None, description="a second request in the same message: its policy"
    )
    later_about: str = Field(default="", description="the second request in customer words")
    score: float | None = None


class LoadPolicyRequest(BaseModel):
    policy_id: str
    version: str | None = Field(
        default=None,
        description="the version hash to load (from the ticket's start); None: the version "
        "published now (a hand-over pins the one published at first use)",
    )


class EnterPolicyRequest(LoadPolicyRequest):
    unit: str = Field(
        description="who a running experiment assigns: the CustomerKey, else the ticket id"
    )


class PolicyEntered(BaseModel):
    """The plan a ticket runs, and its experiment variant when an experiment splits the
    policy (its version then replaces the requested one)."""

    plan: Plan
    assignment: Assignment = Field(default_factory=Assignment)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


class PolicyActivities:
    """The policy library, read once per process: the worker's `route_ticket` and
    `load_policy`, and the API's routing of a new ticket (`route`, the same rules)."""

    def __init__(
        self,
        library: PolicyLibrary | None = None,
        versions: PolicyVersions | None = None,
        *,
        semantic: bool = True,
        embedder: Embedder | None = None,
        model: LanguageModel | None = None,
    ) -> None:
        self.library = library or load_library()
        #: The optional language model: asked only to pick between the policies the router
        #: hesitated between (or that a disambiguation question named), never another.
        self.model = model
        # The policy store (the app database), when the worker has one: `load_policy` takes
        # plans from it, by version hash or as published now; the library is the fallback.
        self.versions = versions
        #: False: the rule-based router only (triggers and fuzzy match), as before.
        self.semantic = semantic
        self._embedder = embedder
        self._router: MeaningRouter | None = None
        # `route_ticket` with a store: routing over the set published now, kept while that
        # set stands (its router embeds the library's phrases once per publish).
        self._published: PolicyActivities | None = None

    @property
    def router(self) -> MeaningRouter:
        """Built on first use (the model loads once per process, the phrases once per
        library)."""
        if self._router is None:
            plans = sorted(self.library.plans.values(), key=lambda p: p.id)
            self._router = MeaningRouter(
                plans, {p.id: self._group(p) for p in plans}, embedder=self._embedder
            )
        return self._router

    def warm(self) -> None:
        """Load the model and embed the library's phrases now (a worker at start-up), so
        the first ticket's `route_ticket` does not pay for it."""
        if self.semantic:
            self.router  # noqa: B018

    def _group(self, plan: Plan) -> str:
        """Policies that share a ticket type (after the entry point) are one candidate."""
        entry = self._entry_point(plan)
        types = sorted(_norm(t) for t in entry.ticket_types)
        return "|".join(types) or entry.id

    def menu(self) -> list[MenuItem]:
        """One entry per ticket type (the first policy that handles it), in a stable order."""
        seen: dict[str, MenuItem] = {}
        for plan in sorted(self.library.plans.values(), key=lambda p: p.id):
            label = plan.ticket_types[0] if plan.ticket_types else plan.title
            seen.setdefault(_norm(label), MenuItem(policy_id=plan.id, title=label))
        return sorted(seen.values(), key=lambda item: item.title)

    def route(self, request: RouteRequest) -> RouteResult:
        plans = self.library.plans
        if request.policy_id:
            try:
                return RouteResult(
                    policy_id=self.library.get(request.policy_id).id, how="policy_id"
                )
            except KeyError:
                pass
        if request.ticket_type:
            wanted = _norm(request.ticket_type)
            typed = [
                self._entry_point(plan)
                for plan in sorted(plans.values(), key=lambda p: p.id)
                if wanted in {_norm(t) for t in plan.ticket_types}
            ]
            fitting = [plan for plan in typed if helpdesk_fits(plan, request.helpdesk)]
            if fitting or typed:
                return RouteResult(policy_id=(fitting or typed)[0].id, how="ticket_type")
        menu = self.menu()
        if request.choices and self.semantic:
            return self._answer_to_choice(request, menu)
        picked = re.fullmatch(r"\s*#?(\d{1,2})\s*[.)]?\s*", request.text)
        if picked and 1 <= int(picked.group(1)) <= len(menu):
            return RouteResult(policy_id=menu[int(picked.group(1)) - 1].policy_id, how="menu")
        if self.semantic:
            return self._route_by_meaning(request, menu)
        matched = self.library.match(request.text)
        if matched is not None:
            return RouteResult(
                policy_id=self._for_helpdesk(matched, request.helpdesk).id, how="trigger"
            )
        return RouteResult(policy_id=None, how="none", menu=menu)

    def _for_helpdesk(self, matched: Plan, helpdesk: str) -> Plan:
        """The entry point, in the variant of the same ticket type built for this helpdesk
        when there is one."""
        matched = self._entry_point(matched)
        for plan in sorted(self.library.plans.values(), key=lambda p: p.id):
            if plan.ticket_types == matched.ticket_types and helpdesk_fits(plan, helpdesk):
                return plan
        return matched

    def _item(self, plan: Plan) -> MenuItem:
        label = plan.ticket_types[0] if plan.ticket_types else plan.title
        return MenuItem(policy_id=plan.id, title=label, about=plan.customer_name or plan.title)

    def _route_by_meaning(self, request: RouteRequest, menu: list[MenuItem]) -> RouteResult:
        decision = self.router.decide(request.text)
        top = decision.top
        if decision.kind == "routed" and top is not None:
            plan = self._for_helpdesk(top.best_policy, request.helpdesk)
            later = None
            if decision.later is not None:
                later = self._for_helpdesk(decision.later.best_policy, request.helpdesk)
            return RouteResult(
                policy_id=plan.id,
                how="meaning",
                later=later.id if later else None,
                later_about=(later.customer_name or later.title) if later else "",
                score=round(top.score, 3),
            )
        if decision.kind == "ambiguous" and top is not None:
            pair = [
                self._for_helpdesk(s.best_policy, request.helpdesk) for s in decision.ranked[:2]
            ]
            return RouteResult(
                policy_id=None,
                how="ambiguous",
                menu=menu,
                candidates=[self._item(plan) for plan in pair],
                score=round(top.score, 3),
            )
        return RouteResult(
            policy_id=None, how="none", menu=menu, score=round(top.score, 3) if top else None
        )

    def _answer_to_choice(self, request: RouteRequest, menu: list[MenuItem]) -> RouteResult:
        """The customer answered "is it A or B?": one of them, or clearly another request
        ("actually, I want to skip my next box"); unclear → the menu."""
        known = [pid for pid in request.choices if pid in self.library.plans]
        keys = [self._group(self.library.plans[pid]) for pid in known]
        other = self._route_by_meaning(request, menu)
        if other.how == "meaning" and other.policy_id is not None:
            if self._group(self.library.plans[other.policy_id]) not in keys:
                return other
        if len(known) == 2:
            chosen = self.router.choose(request.text, keys)
            if chosen is not None:
                return RouteResult(policy_id=known[keys.index(chosen)], how="choice")
        return RouteResult(policy_id=None, how="none", menu=menu)

    def _entry_point(self, plan: Plan) -> Plan:
        """A policy that others hand over to (single cancellation after retention) is not
        where a ticket of the same type starts: start at the policy that hands over."""
        types = {_norm(t) for t in plan.ticket_types}
        callers = [
            other
            for other in sorted(self.library.plans.values(), key=lambda p: p.id)
            if plan.id in other.policies and types & {_norm(t) for t in other.ticket_types}
        ]
        return callers[0] if callers else plan

    def for_published(self, published: PolicyLibrary) -> PolicyActivities:
        """Routing over `published` (the store's set now), built once per published set,
        not per ticket: a new router embeds every policy's phrases again."""
        cached = self._published
        if cached is None or cached.library is not published:
            cached = PolicyActivities(published)
            self._published = cached
        return cached

    @activity.defn(name="route_ticket")
    async def route_ticket(self, request: RouteRequest) -> RouteResult:
        router = self
        if self.versions is not None:
            # The set published now, as the API routes (the same rules, the store's plans).
            published = await asyncio.to_thread(self.versions.published_set.current)
            if published is not None:
                router = self.for_published(published)
        return await router.second_opinion(request, router.route(request), self.model)

    async def second_opinion(
        self, request: RouteRequest, result: RouteResult, model: LanguageModel | None
    ) -> RouteResult:
        """Where the router hesitated between two policies (or could not read the answer
        to "is it A or B?"), the language model may pick one of those two; nothing else."""
        if model is None:
            return result
        if result.how == "ambiguous" and len(result.candidates) == 2:
            named = result.candidates
        elif request.choices and result.how == "none":
            plans = self.library.plans
            named = [self._item(plans[pid]) for pid in request.choices if pid in plans]
        else:
            return result
        if len(named) < 2:
            return result
        lines = "\n".join(f"- {item.policy_id}: {item.about or item.title}" for item in named)
        instructions = (
            "A customer wrote to support. Which of these requests is the message about? "
            "Answer the id, or null if it is neither or unclear.\n" + lines
        )
        ids = [item.policy_id for item in named]
        picked = await model.choose(instructions, request.text, ids, field="policy")
        if picked is None:
            return result
        return RouteResult(policy_id=picked, how="model", score=result.score)

    def _canonical(self, policy_id: str) -> str:
        return (self.library.index.resolve(policy_id.lstrip("#")) or policy_id).lstrip("#")

    def _stored(self, request: LoadPolicyRequest) -> Plan | None:
        if self.versions is None:
            return None
        policy_id = self._canonical(request.policy_id)
        if request.version:
            plan = self.versions.plan(policy_id.lstrip("#"), request.version)
            if plan is not None:
                return plan
        return self.versions.published(policy_id.lstrip("#"))

    def _assigned(self, request: EnterPolicyRequest) -> PolicyEntered | None:
        """The variant a running experiment on the policy gives this customer, with its
        plan; None when no experiment runs (or its version is gone)."""
        if self.versions is None:
            return None
        policy_id = self._canonical(request.policy_id)
        assignment = assign(self.versions.engine, policy_id, request.unit)
        if assignment.version is None:
            return None
        plan = self.versions.plan(policy_id, assignment.version)
        return PolicyEntered(plan=plan, assignment=assignment) if plan is not None else None

    @activity.defn(name="enter_policy")
    async def enter_policy(self, request: EnterPolicyRequest) -> PolicyEntered:
        """`load_policy`, and the experiment variant of the customer when one runs."""
        assigned = await asyncio.to_thread(self._assigned, request)
        if assigned is not None:
            return assigned
        return PolicyEntered(plan=await self.load_policy(request))

    @activity.defn(name="load_policy")
    async def load_policy(self, request: LoadPolicyRequest) -> Plan:
        stored = await asyncio.to_thread(self._stored, request)
        if stored is not None:
            return stored
        try:
            return self.library.get(request.policy_id)
        except KeyError:
            raise ApplicationError(
                f"policy {request.policy_id!r} is not in the library or does not compile",
                type=POLICY_NOT_FOUND,
                non_retryable=True,
            ) from None


def helpdesk_fits(plan: Plan, helpdesk: str) -> bool:
    return helpdesk in plan.platforms or helpdesk in plan.roles.values()
