"""The policy store files policies by the id their front matter declares, so a source
without one is still refused there (the compiler would otherwise name it after its title
or file name), with the line to add."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.services import policy_store as store
from api.services.policy_store import StoreError

BODY = "## Steps\n\n1. Tell the customer: Thanks for writing.\n"


def test_a_draft_without_an_id_cannot_be_published(app_engine: Engine) -> None:
    policy_id = f"p_{uuid.uuid4().hex[:8]}"
    title = policy_id.replace("_", " ").title()
    try:
        draft = store.save_draft(app_engine, policy_id, f"# {title}\n\n{BODY}", "tests")
        assert draft.result.plan is None
        error = next(d for d in draft.result.diagnostics if d.code == "TF010")
        assert error.fix is not None and f"id: {policy_id}" in error.fix
        with pytest.raises(StoreError) as refused:
            store.publish(app_engine, policy_id, message="v", author="tests")
        assert refused.value.status == 422
    finally:
        store.delete(app_engine, policy_id, "tests")


def test_import_refuses_a_file_that_does_not_declare_its_id(
    app_engine: Engine, tmp_path: Path
) -> None:
    policy_id = f"p_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{policy_id}.md").write_text(f"---\ntitle: Pasted\n---\n{BODY}")
    try:
        done, failed = store.import_directory(app_engine, tmp_path)
        assert done == []
        assert [d.code for r in failed for d in r.errors] == ["TF010"]
        with pytest.raises(StoreError):
            store.get_policy(app_engine, policy_id)
    finally:
        try:
            store.delete(app_engine, policy_id, "tests")
        except StoreError:
            pass  # nothing was stored, as it should be
