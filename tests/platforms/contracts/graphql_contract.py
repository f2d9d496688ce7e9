"""Checking GraphQL traffic against a vendor's published schema, with graphql-core.

Shopify publishes its Admin API schema per version; the npm package ``@shopify/dev-mcp``
ships it as introspection JSON (``dist/data/admin_<version>.json.gz``). It is installed from
the lockfile in ``schemas/`` (``make contract-schemas``, run by ``make pytest``), never copied
into this repository. Without it the schema checks skip, except on CI, where they fail.

``document_problems`` validates an operation as Shopify's server would before running it
(fields, arguments, fragments, directives; a deprecated field counts as a problem too) and
coerces its variables to their declared types (unknown input fields, missing required ones,
wrong enum values). ``response_problems``
walks the selection set over an answer and checks each selected value against the schema's
type (nullability, lists, scalars, enums), so an emulator cannot invent a shape the schema
does not allow.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_client_schema,
    get_named_type,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.validation import NoDeprecatedCustomRule, specified_rules

SCHEMAS = Path(__file__).parent / "schemas" / "node_modules"
SHOPIFY_DATA = SCHEMAS / "@shopify" / "dev-mcp" / "dist" / "data"
ISO_8601 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
DECIMAL = re.compile(r"-?\d+(\.\d+)?")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@cache
def _load(path: Path) -> GraphQLSchema:
    with gzip.open(path) as file:
        introspection = json.load(file)
    # Shopify's schema deprecates a few interface implementations that graphql-core's own
    # schema rules refuse; operations validate the same either way.
    return build_client_schema(introspection["data"], assume_valid=True)


def shopify_admin_schema(version: str) -> GraphQLSchema:
    """The Admin API schema of ``version`` (e.g. ``2026-01``), or the test skips (fails on CI)."""
    path = SHOPIFY_DATA / f"admin_{version}.json.gz"
    if not path.exists():
        message = f"Shopify Admin schema {version} not installed: run `make contract-schemas`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return _load(path)


def operation_of(query: str) -> OperationDefinitionNode:
    (definition,) = [d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode)]
    return definition


def root_field(query: str) -> str:
    first = operation_of(query).selection_set.selections[0]
    assert isinstance(first, FieldNode)
    return first.name.value


def document_problems(schema: GraphQLSchema, query: str, variables: dict[str, Any]) -> list[str]:
    document = parse(query)
    rules = [*specified_rules, NoDeprecatedCustomRule]  # deprecated fields are drift too
    found = [f"document: {error.message}" for error in validate(schema, document, rules)]
    if found:
        return found
    definitions = operation_of(query).variable_definitions or ()
    coerced = get_variable_values(schema, definitions, variables)
    if isinstance(coerced, list):
        found += [f"variables: {error.message}" for error in coerced]
    return found


def response_problems(schema: GraphQLSchema, query: str, data: Any) -> list[str]:
    """Every selected field of ``data`` checked against its type in the schema."""
    operation = operation_of(query)
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None
    if not isinstance(data, dict):
        return [f"data: expected an object, got {data!r}"]
    return _selection(schema, root, operation.selection_set, data, "data")


def _selection(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selection_set: SelectionSetNode,
    value: dict[str, Any],
    path: str,
) -> list[str]:
    found: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            if _applies(schema, selection, parent, value):
                found += _selection(schema, parent, selection.selection_set, value, path)
            continue
        assert isinstance(selection, FieldNode), "fragment spreads are not used"
        name = selection.name.value
        if name == "__typename":
            continue
        key = selection.alias.value if selection.alias else name
        field = parent.fields.get(name)
        if field is None:
            found.append(f"{path}.{key}: no such field on {parent.name}")
        elif key not in value:
            found.append(f"{path}.{key}: selected but missing from the answer")
        else:
            found += _value(schema, field.type, selection, value[key], f"{path}.{key}")
    return found


def _value(schema: GraphQLSchema, kind: Any, node: FieldNode, value: Any, path: str) -> list[str]:
    if isinstance(kind, GraphQLNonNull):
        if value is None:
            return [f"{path}: null where the schema says non-null ({kind})"]
        kind = kind.of_type
    if value is None:
        return []
    if isinstance(kind, GraphQLList):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [
            p
            for index, item in enumerate(value)
            for p in _value(schema, kind.of_type, node, item, f"{path}[{index}]")
        ]
    named = get_named_type(kind)
    if isinstance(named, GraphQLEnumType):
        allowed = set(named.values)
        return [] if value in allowed else [f"{path}: {value!r} is not a {named.name} value"]
    if isinstance(named, GraphQLScalarType):
        return _scalar(named.name, value, path)
    if not isinstance(value, dict):
        return [f"{path}: expected a {named.name} object, got {value!r}"]
    if node.selection_set is None:
        return [f"{path}: an object type selected without fields"]
    if isinstance(named, GraphQLObjectType):
        return _selection(schema, named, node.selection_set, value, path)
    # An interface or union: the concrete type from __typename when selected, else any
    # possible type that one of the inline fragments names and the answer satisfies.
    concrete = schema.get_type(str(value.get("__typename") or ""))
    if isinstance(concrete, GraphQLObjectType):
        return _selection(schema, concrete, node.selection_set, value, path)
    assert isinstance(named, GraphQLInterfaceType | GraphQLUnionType)
    candidates = [
        t
        for t in schema.get_possible_types(named)
        if any(
            isinstance(s, InlineFragmentNode) and _applies(schema, s, t, value)
            for s in node.selection_set.selections
        )
    ]
    if not candidates:
        return [f"{path}: no inline fragment of the selection matches this {named.name}"]
    results = [_selection(schema, t, node.selection_set, value, path) for t in candidates]
    return [] if any(not r for r in results) else results[0]


def _applies(
    schema: GraphQLSchema, fragment: InlineFragmentNode, parent: GraphQLObjectType, value: Any
) -> bool:
    """Whether ``... on T`` applies to ``value``, an object of type ``parent``."""
    if fragment.type_condition is None:
        return True
    target = schema.get_type(fragment.type_condition.name.value)
    typename = value.get("__typename")
    if typename is not None and typename != parent.name:
        return False
    if target is parent:
        return True
    return isinstance(target, GraphQLInterfaceType | GraphQLUnionType) and schema.is_sub_type(
        target, parent
    )


def _scalar(name: str, value: Any, path: str) -> list[str]:
    ok: bool
    if name in ("String", "ID", "URL", "HTML", "FormattedString", "StorefrontID"):
        ok = isinstance(value, str)
    elif name == "Int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif name == "Float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif name == "Boolean":
        ok = isinstance(value, bool)
    elif name == "DateTime":
        ok = isinstance(value, str) and bool(ISO_8601.fullmatch(value))
    elif name in ("Decimal", "Money", "UnsignedInt64"):
        ok = isinstance(value, str) and bool(DECIMAL.fullmatch(value))
    elif name == "uuid":  # Hasura's scalars (Skio)
        ok = isinstance(value, str) and bool(UUID.fullmatch(value))
    elif name == "timestamptz":
        ok = isinstance(value, str) and bool(ISO_8601.fullmatch(value))
    elif name == "numeric":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = True  # JSON and the like
    return [] if ok else [f"{path}: {value!r} is not a {name}"]
