"""Conversation scripts kept in the app database (the console's "save as test"): each one
a YAML script in the policies/tests format, run by the publish gate with the policy's
packaged scripts, so a conversation an editor saved guards every later publish."""

from __future__ import annotations

from datetime import UTC, datetime

import yaml
from sqlalchemy import DateTime, Engine, Text
from sqlmodel import Field, Session, SQLModel, col, select


def _now() -> datetime:
    return datetime.now(UTC)


class StoredScript(SQLModel, table=True):
    __tablename__ = "policy_script"

    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=200, index=True)
    name: str = Field(max_length=300)
    source: str = Field(sa_type=Text, description="the script's YAML")
    author: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))


def save_script(engine: Engine, policy_id: str, script: dict[str, object], author: str) -> int:
    """Store `script` (a mapping in the script format, `policy` set to `policy_id`)."""
    body = {**script, "policy": policy_id}
    source = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    with Session(engine) as session:
        row = StoredScript(
            policy_id=policy_id,
            name=str(body.get("name") or "")[:300],
            source=source,
            author=author,
        )
        session.add(row)
        session.commit()
        session.refresh(row)
        assert row.id is not None
        return row.id


def policy_scripts(engine: Engine, policy_id: str) -> list[StoredScript]:
    """The policy's stored scripts, oldest first."""
    with Session(engine) as session:
        query = select(StoredScript).where(StoredScript.policy_id == policy_id)
        return list(session.exec(query.order_by(col(StoredScript.id))).all())


def delete_script(engine: Engine, policy_id: str, script_id: int) -> bool:
    with Session(engine) as session:
        row = session.get(StoredScript, script_id)
        if row is None or row.policy_id != policy_id:
            return False
        session.delete(row)
        session.commit()
        return True
