"""Shared helpers: compile a policy body with a small front matter, find nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.compiler import CompileResult, compile_policy
from policies.library import PolicyLibrary, load_library

FIXTURES = Path(__file__).parent / "fixtures"


def compile_body(
    body: str, *, platforms: str = "[bigcommerce, kustomer]", extra: str = ""
) -> CompileResult:
    source = f"---\nid: sample\ntitle: Sample\nplatforms: {platforms}\n{extra}---\n{body}"
    return compile_policy(source, path="sample.md")


def codes(result: CompileResult) -> list[str]:
    return [d.code for d in result.diagnostics]


@pytest.fixture(scope="session")
def library() -> PolicyLibrary:
    return load_library()
