"""Salesforce Service Cloud emulator: OAuth token, Case, CaseComment, SOQL, outbound messages.

``POST /salesforce/services/oauth2/token`` (client credentials) returns a Bearer token whose
``instance_url`` is this emulator; REST under ``/salesforce/services/data/{version}/``.
Errors are JSON arrays of ``{message, errorCode, fields?}`` (401 ``INVALID_SESSION_ID``);
every REST answer carries ``Sforce-Limit-Info``. CommentBody is limited to 4,000 bytes.
The SOQL endpoint understands the simple queries ticketflow issues:
``SELECT fields FROM Object [WHERE f = 'v' [AND ...]] [ORDER BY f [ASC|DESC]] [LIMIT n]``
over Case, CaseComment, Contact and Group (queues). ``parameterizedSearch`` (SOSL as JSON in
a POST body) searches the same objects' email, name or all text fields for a term.

Sandbox controls under ``/salesforce/_sandbox/`` (no auth): expire every token (tests the
connector's refresh), set the outbound-message target, simulate a customer comment (recorded,
then posted as a SOAP ``notifications`` outbound message).
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Field, Session, col, select

from sandbox.core import (
    NewTicket,
    SandboxModel,
    SessionDep,
    add_webhook_target_route,
    emit_webhook,
    iso,
    now,
    record_side_effect,
)
from sandbox.credentials import (
    SANDBOX_SALESFORCE_CLIENT_ID,
    SANDBOX_SALESFORCE_CLIENT_SECRET,
    SANDBOX_SALESFORCE_ORGANIZATION_ID,
)
from sandbox.routes import is_control_path, platform_route

PLATFORM = "salesforce"
ORGANIZATION_ID = SANDBOX_SALESFORCE_ORGANIZATION_ID
BOT_USER_ID = "005000000000001AAA"
PORTAL_USER_ID = "005000000000009AAA"
DAILY_LIMIT = 15000
COMMENT_BODY_MAX_BYTES = 4000
STATUSES = ("New", "Working", "Waiting on Customer", "Escalated", "Closed")
PRIORITIES = ("Low", "Medium", "High")
TAGS_FIELD = "Ticketflow_Tags__c"
_REF = re.compile(r"\[ref:tf-[0-9a-f]{12}\]\s*$")


class SalesforceError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        self.status, self.code, self.message, self.fields = status, code, message, fields


def _errors(status: int, code: str, message: str, fields: list[str] | None = None) -> JSONResponse:
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    return JSONResponse([item], status_code=status)


def error_response(status: int, message: str) -> JSONResponse:
    """Salesforce's error array (also used by the sandbox's fault injection)."""
    code = {429: "REQUEST_LIMIT_EXCEEDED", 503: "SERVER_UNAVAILABLE"}.get(
        status, "UNKNOWN_EXCEPTION"
    )
    return _errors(status, code, message)


_usage = {"calls": 0}


def _limit_info() -> dict[str, str]:
    _usage["calls"] += 1
    return {"Sforce-Limit-Info": f"api-usage={_usage['calls']}/{DAILY_LIMIT}"}


# Bearer auth against issued tokens, error arrays and ``Sforce-Limit-Info``.
router = APIRouter(
    route_class=platform_route(
        authorized=lambda request: _valid_token(request),
        unauthorized=lambda: _errors(401, "INVALID_SESSION_ID", "Session expired or invalid"),
        error=SalesforceError,
        error_answer=lambda exc: _errors(exc.status, exc.code, exc.message, exc.fields),
        usage_headers=_limit_info,
        is_open=lambda path: is_control_path(path) or path.endswith("/oauth2/token"),
    )
)


# --- tables ---------------------------------------------------------------------------------


class SalesforceToken(SandboxModel, table=True):
    __tablename__ = "salesforce_token"

    token: str = Field(primary_key=True)
    issued_at: datetime
    revoked: bool = False


class SalesforceCase(SandboxModel, table=True):
    __tablename__ = "salesforce_case"

    id: str = Field(primary_key=True)
    case_number: str
    subject: str
    description: str
    status: str = "New"
    priority: str = "Medium"
    origin: str = "Web"
    owner_id: str = BOT_USER_ID
    contact_id: str | None = None
    contact_email: str | None = None
    tags: str | None = None
    last_modified: datetime


class SalesforceCaseComment(SandboxModel, table=True):
    __tablename__ = "salesforce_case_comment"

    id: str = Field(primary_key=True)
    parent_id: str = Field(index=True)
    body: str
    is_published: bool = False
    created_by_id: str = BOT_USER_ID
    created_date: datetime
    seq: int = 0


class SalesforceContact(SandboxModel, table=True):
    __tablename__ = "salesforce_contact"

    id: str = Field(primary_key=True)
    name: str
    email: str = Field(index=True)
    mailing_street: str | None = None
    mailing_city: str | None = None
    mailing_state: str | None = None
    mailing_postal_code: str | None = None
    mailing_country: str | None = None


class SalesforceQueue(SandboxModel, table=True):
    __tablename__ = "salesforce_queue"

    id: str = Field(primary_key=True)
    name: str
    developer_name: str


def _valid_token(request: Request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    with Session(request.app.state.engine) as session:
        row = session.get(SalesforceToken, token)
        return row is not None and not row.revoked


# --- records as the REST API shows them -----------------------------------------------------


def case_record(case: SalesforceCase, version: str) -> dict[str, Any]:
    return {
        "attributes": {"type": "Case", "url": f"/services/data/{version}/sobjects/Case/{case.id}"},
        "Id": case.id,
        "CaseNumber": case.case_number,
        "Subject": case.subject,
        "Description": case.description,
        "Status": case.status,
        "Priority": case.priority,
        "Origin": case.origin,
        "OwnerId": case.owner_id,
        "ContactId": case.contact_id,
        "ContactEmail": case.contact_email,
        "IsClosed": case.status == "Closed",
        TAGS_FIELD: case.tags,
        "LastModifiedDate": _sf_time(case.last_modified),
    }


def _sf_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def comment_record(comment: SalesforceCaseComment) -> dict[str, Any]:
    return {
        "attributes": {"type": "CaseComment"},
        "Id": comment.id,
        "ParentId": comment.parent_id,
        "CommentBody": comment.body,
        "IsPublished": comment.is_published,
        "CreatedById": comment.created_by_id,
        "CreatedDate": _sf_time(comment.created_date),
    }


def contact_record(contact: SalesforceContact) -> dict[str, Any]:
    return {
        "attributes": {"type": "Contact"},
        "Id": contact.id,
        "Name": contact.name,
        "Email": contact.email,
        "MailingStreet": contact.mailing_street,
        "MailingCity": contact.mailing_city,
        "MailingState": contact.mailing_state,
        "MailingPostalCode": contact.mailing_postal_code,
        "MailingCountry": contact.mailing_country,
    }


def queue_record(queue: SalesforceQueue) -> dict[str, Any]:
    return {
        "attributes": {"type": "Group"},
        "Id": queue.id,
        "Name": queue.name,
        "DeveloperName": queue.developer_name,
        "Type": "Queue",
    }


def _case(session: Session, case_id: str) -> SalesforceCase:
    case = session.get(SalesforceCase, case_id)
    if case is None:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return case


# --- OAuth ----------------------------------------------------------------------------------


@router.post("/services/oauth2/token")
async def token(request: Request, session: SessionDep) -> Response:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    grant_type = form.get("grant_type", "")
    client_id = form.get("client_id", "")
    client_secret = form.get("client_secret", "")
    if grant_type != "client_credentials":
        return JSONResponse(
            {"error": "unsupported_grant_type", "error_description": "grant type not supported"},
            status_code=400,
        )
    if client_id != SANDBOX_SALESFORCE_CLIENT_ID or not hmac.compare_digest(
        client_secret, SANDBOX_SALESFORCE_CLIENT_SECRET
    ):
        return JSONResponse(
            {"error": "invalid_client", "error_description": "invalid client credentials"},
            status_code=400,
        )
    issued = now(session)
    access_token = f"{ORGANIZATION_ID[:15]}!{secrets.token_urlsafe(32)}"
    session.add(SalesforceToken(token=access_token, issued_at=issued))
    session.commit()
    instance_url = str(request.base_url).rstrip("/") + f"/{PLATFORM}"
    return JSONResponse(
        {
            "access_token": access_token,
            "instance_url": instance_url,
            "id": f"{instance_url}/id/{ORGANIZATION_ID}/{BOT_USER_ID}",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": secrets.token_urlsafe(32),
        }
    )


# --- REST -----------------------------------------------------------------------------------


@router.get("/services/data/{version}/sobjects/Case/{case_id}")
async def get_case(version: str, case_id: str, session: SessionDep) -> dict[str, Any]:
    return case_record(_case(session, case_id), version)


@router.patch("/services/data/{version}/sobjects/Case/{case_id}", status_code=204)
async def patch_case(version: str, case_id: str, request: Request, session: SessionDep) -> Response:
    case = _case(session, case_id)
    fields = await request.json()
    if not isinstance(fields, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "Expected an object")
    columns = {
        "Status": "status",
        "Priority": "priority",
        "OwnerId": "owner_id",
        "Subject": "subject",
        "Description": "description",
        TAGS_FIELD: "tags",
    }
    for name, value in fields.items():
        if name not in columns:
            raise SalesforceError(
                400, "INVALID_FIELD", f"No such column '{name}' on sobject of type Case"
            )
        if name == "Status" and value not in STATUSES:
            raise SalesforceError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Status: bad value for restricted picklist field: {value}",
                ["Status"],
            )
        if name == "Priority" and value not in PRIORITIES:
            raise SalesforceError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Priority: bad value for restricted picklist field: {value}",
                ["Priority"],
            )
        if name == "OwnerId" and not (
            str(value) in (BOT_USER_ID, PORTAL_USER_ID)
            or session.get(SalesforceQueue, str(value)) is not None
        ):
            raise SalesforceError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                f"Owner ID: id value of incorrect type: {value}",
                ["OwnerId"],
            )
        setattr(case, columns[name], value)
    case.last_modified = now(session)
    session.add(case)
    session.commit()
    record_side_effect(
        session,
        PLATFORM,
        "case.update",
        idempotency_key=None,
        request=fields,
        resource_id=case.id,
        status_code=204,
    )
    return Response(status_code=204)


class CaseCommentIn(BaseModel):
    ParentId: str
    CommentBody: str
    IsPublished: bool = False


def add_comment(
    session: Session, parent_id: str, body: str, published: bool, author: str
) -> SalesforceCaseComment:
    count = len(session.exec(select(SalesforceCaseComment.id)).all())
    comment = SalesforceCaseComment(
        id=f"00a{count + 1:012d}AAA",
        parent_id=parent_id,
        body=body,
        is_published=published,
        created_by_id=author,
        created_date=now(session),
        seq=count + 1,
    )
    session.add(comment)
    session.commit()
    session.refresh(comment)
    return comment


@router.post("/services/data/{version}/sobjects/CaseComment", status_code=201)
async def create_comment(version: str, body: CaseCommentIn, session: SessionDep) -> Response:
    if session.get(SalesforceCase, body.ParentId) is None:
        raise SalesforceError(
            400, "FIELD_INTEGRITY_EXCEPTION", "Parent ID: id value of incorrect type", ["ParentId"]
        )
    size = len(body.CommentBody.encode())
    if size > COMMENT_BODY_MAX_BYTES:
        raise SalesforceError(
            400,
            "STRING_TOO_LONG",
            f"Body: data value too large: {size} bytes (max length={COMMENT_BODY_MAX_BYTES})",
            ["CommentBody"],
        )
    if not body.CommentBody.strip():
        raise SalesforceError(
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [CommentBody]",
            ["CommentBody"],
        )
    comment = add_comment(session, body.ParentId, body.CommentBody, body.IsPublished, BOT_USER_ID)
    ref = _REF.search(body.CommentBody)
    record_side_effect(
        session,
        PLATFORM,
        "casecomment.create",
        idempotency_key=ref.group(0).strip("[]") if ref else None,
        request=body.model_dump(),
        response={"id": comment.id},
        resource_id=body.ParentId,
        status_code=201,
    )
    return JSONResponse({"id": comment.id, "success": True, "errors": []}, status_code=201)


_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*(\w+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*$", re.DOTALL)


def _records(session: Session, sobject: str) -> list[dict[str, Any]]:
    if sobject == "case":
        return [case_record(c, "v62.0") for c in session.exec(select(SalesforceCase)).all()]
    if sobject == "casecomment":
        rows = session.exec(select(SalesforceCaseComment).order_by(col(SalesforceCaseComment.seq)))
        return [comment_record(c) for c in rows.all()]
    if sobject == "contact":
        return [contact_record(c) for c in session.exec(select(SalesforceContact)).all()]
    if sobject == "group":
        return [queue_record(q) for q in session.exec(select(SalesforceQueue)).all()]
    raise SalesforceError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")


@router.get("/services/data/{version}/query")
async def query(version: str, q: str, session: SessionDep) -> dict[str, Any]:
    match = _SOQL.match(q)
    if match is None:
        raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token in: {q[:200]}")
    fields = [f.strip() for f in match["fields"].split(",")]
    records = _records(session, match["object"].lower())
    for condition in re.split(r"\s+AND\s+", match["where"] or "", flags=re.IGNORECASE):
        if not condition.strip():
            continue
        parsed = _CONDITION.match(condition)
        if parsed is None:
            raise SalesforceError(400, "MALFORMED_QUERY", f"unsupported condition: {condition}")
        name, value = parsed[1], re.sub(r"\\(.)", r"\1", parsed[2])
        records = [r for r in records if str(r.get(name)) == value]
    if match["order"]:
        key = match["order"]
        records.sort(
            key=lambda r: str(r.get(key) or ""), reverse=(match["dir"] or "").upper() == "DESC"
        )
    if match["limit"]:
        records = records[: int(match["limit"])]
    for record in records:
        if any(f not in record for f in fields):
            missing = next(f for f in fields if f not in record)
            raise SalesforceError(400, "INVALID_FIELD", f"No such column '{missing}'")
    shown = [{"attributes": r["attributes"], **{f: r[f] for f in fields}} for r in records]
    return {"totalSize": len(shown), "done": True, "records": shown}


SEARCH_GROUPS = {
    "EMAIL": lambda field: "Email" in field,
    "NAME": lambda field: field.endswith("Name"),
    "PHONE": lambda field: "Phone" in field,
    "SIDEBAR": lambda field: field.endswith("Name") or "Email" in field or "Phone" in field,
    "ALL": lambda field: field != "Id",
}


@router.post("/services/data/{version}/parameterizedSearch")
async def parameterized_search(version: str, request: Request, session: SessionDep) -> Any:
    """SOSL as JSON: ``{q, in: ALL|EMAIL|NAME|PHONE|SIDEBAR, sobjects: [{name, fields, limit?}],
    overallLimit?}`` -> ``{searchRecords: [...]}``. The search term travels in the body."""
    try:
        body = await request.json()
    except ValueError:
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body is not JSON") from None
    term = body.get("q") if isinstance(body, dict) else None
    if not isinstance(term, str) or len(term.strip()) < 2:
        raise SalesforceError(
            400, "INVALID_SEARCH", "search term must be longer than one character"
        )
    group = str(body.get("in") or "ALL").upper()
    if group not in SEARCH_GROUPS:
        raise SalesforceError(400, "INVALID_SEARCH", f"unsupported search group {group}")
    sobjects = body.get("sobjects") or []
    if not isinstance(sobjects, list) or not sobjects:
        raise SalesforceError(400, "INVALID_SEARCH", "sobjects must name at least one object")
    wanted = term.strip().lower()
    found: list[dict[str, Any]] = []
    for spec in sobjects:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise SalesforceError(400, "INVALID_SEARCH", "each sobject needs a name")
        fields = spec.get("fields") or ["Id"]
        hits = [
            r
            for r in _records(session, spec["name"].lower())
            if any(
                SEARCH_GROUPS[group](k) and isinstance(v, str) and wanted in v.lower()
                for k, v in r.items()
            )
        ]
        for record in hits[: int(spec.get("limit") or 2000)]:
            missing = [f for f in fields if f not in record]
            if missing:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{missing[0]}'")
            found.append({"attributes": record["attributes"], **{f: record[f] for f in fields}})
    return {"searchRecords": found[: int(body.get("overallLimit") or 2000)]}


# --- sandbox controls -----------------------------------------------------------------------


class CustomerComment(BaseModel):
    body: str


@router.post("/_sandbox/expire_tokens")
async def expire_tokens(session: SessionDep) -> dict[str, Any]:
    """Invalidate every issued token: the next call answers 401 INVALID_SESSION_ID."""
    rows = session.exec(select(SalesforceToken).where(col(SalesforceToken.revoked).is_(False)))
    expired = 0
    for row in rows.all():
        row.revoked = True
        session.add(row)
        expired += 1
    session.commit()
    return {"expired": expired}


add_webhook_target_route(router, PLATFORM, what="the outbound message")


def outbound_message(comment: SalesforceCaseComment, notification_id: str, base: str) -> str:
    """A SOAP ``notifications`` envelope carrying one CaseComment, as Salesforce sends it."""
    fields = {
        "Id": comment.id,
        "CommentBody": comment.body,
        "CreatedById": comment.created_by_id,
        "CreatedDate": iso(comment.created_date),
        "IsPublished": "true" if comment.is_published else "false",
        "ParentId": comment.parent_id,
    }
    sobject = "".join(f"<sf:{k}>{escape(v)}</sf:{k}>" for k, v in fields.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body>"
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{ORGANIZATION_ID}</OrganizationId>"
        "<ActionId>04k000000000001AAA</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{base}/services/Soap/c/62.0/{ORGANIZATION_ID[:15]}</EnterpriseUrl>"
        f"<PartnerUrl>{base}/services/Soap/u/62.0/{ORGANIZATION_ID[:15]}</PartnerUrl>"
        "<Notification>"
        f"<Id>{notification_id}</Id>"
        '<sObject xsi:type="sf:CaseComment" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"{sobject}</sObject>"
        "</Notification></notifications></soapenv:Body></soapenv:Envelope>"
    )


def sign(secret: str, body: str) -> dict[str, str]:
    """Outbound messages carry no body signature; receivers check the OrganizationId."""
    return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


@router.post("/_sandbox/tickets")
async def open_ticket(new: NewTicket, session: SessionDep) -> dict[str, Any]:
    """A new, empty case of the contact with this email (created if unknown)."""
    email = new.email.strip().lower()
    contact = session.exec(
        select(SalesforceContact).where(SalesforceContact.email == email)
    ).first()
    if contact is None:
        contact = SalesforceContact(
            id=f"003{secrets.token_hex(6).upper()}AAA", name=new.name or email, email=email
        )
        session.add(contact)
    cases = len(session.exec(select(SalesforceCase.id)).all())
    case = SalesforceCase(
        id=f"500{secrets.token_hex(6).upper()}AAA",
        case_number=f"{1001 + cases:08d}",
        subject=new.subject,
        description=new.subject,
        contact_id=contact.id,
        contact_email=email,
        last_modified=now(session),
    )
    session.add(case)
    session.commit()
    return {"id": case.id}


@router.post("/_sandbox/cases/{case_id}/customer_reply")
async def customer_reply(
    case_id: str, reply: CustomerComment, request: Request, session: SessionDep
) -> dict[str, Any]:
    """The customer comments from the portal: record it, post the outbound message."""
    case = _case(session, case_id)
    comment = add_comment(session, case.id, reply.body, True, PORTAL_USER_ID)
    if case.status in ("Waiting on Customer", "Closed"):
        case.status = "Working"
        session.add(case)
        session.commit()
    notification_id = f"04l{comment.seq:012d}AAA"
    base = str(request.base_url).rstrip("/") + f"/{PLATFORM}"
    body = outbound_message(comment, notification_id, base)
    deliveries = emit_webhook(session, PLATFORM, "CaseComment", body, sign)
    return {
        "comment_id": comment.id,
        "notification_id": notification_id,
        "webhooks": [d.id for d in deliveries],
    }


# --- demo data ------------------------------------------------------------------------------

QUEUES = [
    ("00G000000000001AAA", "Support", "Support"),
    ("00G000000000002AAA", "Escalations", "Escalations"),
    ("00G000000000003AAA", "Retention", "Retention"),
]

CASES = [
    (
        "500000000000001AAA",
        "00001001",
        "003000000000001AAA",
        "Alex Abbott",
        "alex@example.com",
        "Cancel order 5001",
        "Please cancel my order 5001, I ordered it by mistake.",
        ("1 Market St", "San Francisco", "CA", "94105"),
    ),
    (
        "500000000000002AAA",
        "00001002",
        "003000000000002AAA",
        "Blair Brooks",
        "blair@example.com",
        "Cancel order 5002",
        "I want to cancel order 5002, it is not needed anymore.",
        ("77 Lake Dr", "Chicago", "IL", "60601"),
    ),
]


def seed(session: Session) -> None:
    created = now(session)
    for queue_id, name, developer_name in QUEUES:
        session.add(SalesforceQueue(id=queue_id, name=name, developer_name=developer_name))
    for case_id, number, contact_id, name, email, subject, text, address in CASES:
        street, city, state, postal = address
        session.add(
            SalesforceContact(
                id=contact_id,
                name=name,
                email=email,
                mailing_street=street,
                mailing_city=city,
                mailing_state=state,
                mailing_postal_code=postal,
                mailing_country="US",
            )
        )
        session.add(
            SalesforceCase(
                id=case_id,
                case_number=number,
                subject=subject,
                description=text,
                contact_id=contact_id,
                contact_email=email,
                tags="cancel_order;bigcommerce",
                last_modified=created,
            )
        )
    session.commit()
