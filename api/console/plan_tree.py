"""The compiled plan as the tree an author reads beside the text: each node its step,
kind, what it does and the line it came from; branches, offers and claim follow-ups carry
their nested lists as labelled groups (then / otherwise, each option, approved / rejected).
Rendered by the page (a recursive macro) and by the editor as you type (the same JSON)."""

from __future__ import annotations

from typing import Any

from policies.plan import BranchNode, FollowUpClaimNode, Node, OfferNode, Plan

DETAIL_FIELDS = ("tool", "text", "question", "prompt", "reference", "reason", "notice")


def _detail(node: Node) -> str:
    if node.kind == "branch":
        return str(getattr(node, "source", "") or "")
    if node.kind == "end":
        return str(getattr(node, "outcome", ""))
    if node.kind == "use_policy":
        return f"#{getattr(node, 'policy_id', '')}"
    for name in DETAIL_FIELDS:
        value = getattr(node, name, None)
        if value:
            return f"@{value}" if name == "tool" else str(value)
    return ""


def _groups(node: Node) -> list[dict[str, Any]]:
    if isinstance(node, BranchNode):
        groups = [("then", node.line, node.then), ("otherwise", node.line, node.otherwise)]
    elif isinstance(node, OfferNode):
        groups = [(f"option: {o.label}", o.line, o.steps) for o in node.options]
    elif isinstance(node, FollowUpClaimNode):
        groups = [
            ("if approved", node.line, node.on_approved),
            ("if rejected", node.line, node.on_rejected),
        ]
    else:
        return []
    return [
        {"label": label, "line": line, "rows": plan_nodes(nodes)}
        for label, line, nodes in groups
        if nodes or label.startswith("option")
    ]


def plan_nodes(nodes: list[Node]) -> list[dict[str, Any]]:
    return [
        {
            "step": node.step,
            "kind": node.kind,
            "line": node.line,
            "detail": _detail(node),
            "groups": _groups(node),
        }
        for node in nodes
    ]


def plan_tree(plan: Plan | None) -> list[dict[str, Any]]:
    """The plan's top-level steps with their nested groups ([] without a plan)."""
    return plan_nodes(plan.steps) if plan is not None else []
