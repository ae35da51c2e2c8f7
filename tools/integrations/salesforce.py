"""Salesforce CRM: find a contact or lead, create a lead from a sales inquiry, log a mail.

A lead made from a mail takes the sender's address (the Reply-To when it differs, as with
web-form leads), name and company. Salesforce has no idempotency keys, so nothing is created
without looking first: a lead only when no Contact and no unconverted Lead has the address, a
logged mail (a completed Task of subtype Email on the matching Contact or Lead) only when that
person has no Task with the same subject, whose end carries a marker made from the message's
id. A call repeated after a crash (the ledger asks first) finds what the first one made.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool

from memory.db import AppDatabase
from tools.api_requests import IntegrationError
from tools.http import HttpSettings
from tools.integrations.crm_person import person_from_mail
from tools.integrations.salesforce_api import (
    INTEGRATION,
    SalesforceEnv,
    SalesforceTokens,
    call,
    describe,
    duplicate_ids,
    errors_text,
    find_person,
    query,
    soql_text,
)
from tools.oauth.tokens import TokenError
from tools.toolkit import (
    ActionPreview,
    ToolFailure,
    Toolkit,
    ToolResult,
    mail_excerpt,
    mail_with_triage,
    text_result,
)

logger = logging.getLogger(__name__)

CRM_SETTING = "SMART_INBOX_CRM"
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SUBJECT_LIMIT = 255
"""Characters Salesforce keeps of a Task's subject."""
NOT_CONFIGURED = (
    "Salesforce is not configured: run `smart-inbox accounts add salesforce NAME`, then set "
    f"{CRM_SETTING}=salesforce:NAME"
)


@dataclass(frozen=True)
class LeadPlan:
    """The lead a `salesforce_create_lead` call looks for, and creates if it is missing."""

    email: str
    fields: dict[str, str]
    notes: tuple[str, ...] = ()
    email_id: str = ""


@dataclass(frozen=True)
class LogPlan:
    """The mail a `salesforce_log_email` call logs, and whose contact or lead it goes on."""

    addresses: list[str]
    fields: dict[str, str]
    """The Task's fields but `WhoId` (found when it runs)."""
    email_id: str


def plan_lead(db: AppDatabase, args: Mapping[str, Any]) -> LeadPlan:
    """Address, name and company from the arguments, else from the mail's sender."""
    person = person_from_mail(db, args, record="lead", single="last")
    address, first, last, email_id = person.address, person.first, person.last, person.email_id
    company = str(args.get("company") or "").strip()
    notes = list(person.notes)
    if not ADDRESS.match(address):
        raise ToolFailure(
            "a Salesforce lead needs an e-mail address (or the id of the mail it comes from)"
        )
    if not last:  # Salesforce requires a last name and a company on a lead
        last = address.split("@")[0]
        notes.append(f"No name was given: the lead's last name is {last!r}; edit it later.")
    if not company:
        company = address.split("@")[1]
        notes.append(f"No company was given: the lead's company is {company!r}.")
    fields = {"Email": address, "LastName": last, "Company": company}
    if first:
        fields["FirstName"] = first
    return LeadPlan(address, fields, tuple(notes), email_id)


def mail_marker(email_id: str) -> str:
    """The mark at the end of a logged mail's subject: the same for every attempt."""
    return "[si:" + hashlib.sha256(email_id.encode("utf-8")).hexdigest()[:12] + "]"


def plan_log(db: AppDatabase, args: Mapping[str, Any]) -> LogPlan:
    """The Task of a mail: its subject (with the marker), its words, its date."""
    email_id = str(args.get("email_id") or "").strip()
    if not email_id:
        raise ToolFailure("logging a mail in Salesforce needs the id of the mail")
    mail, _ = mail_with_triage(db, email_id)
    given = str(args.get("email") or "").strip().lower()
    addresses = [given] if given else [mail.from_addr.lower()]
    if not given and mail.reply_to and mail.reply_to.lower() not in addresses:
        addresses.append(mail.reply_to.lower())
    addresses = [a for a in addresses if ADDRESS.match(a)]
    if not addresses:
        raise ToolFailure("logging a mail in Salesforce needs the address of its contact or lead")
    marker = mail_marker(mail.id)
    head = f"Email: {' '.join(mail.subject.split()) or '(no subject)'}"
    head = head[: SUBJECT_LIMIT - len(marker) - 1]
    description = f"From: {mail.from_name} <{mail.from_addr}>\nDate: {mail.date}\n\n"
    fields = {
        "Subject": f"{head} {marker}",
        "Description": description + mail_excerpt(mail, limit=30000),
        "Status": "Completed",
        "TaskSubtype": "Email",
    }
    if re.match(r"\d{4}-\d{2}-\d{2}", mail.date):
        fields["ActivityDate"] = mail.date[:10]
    return LogPlan(addresses, fields, mail.id)


async def _find(env: SalesforceEnv, email: str, email_id: str) -> ToolResult:
    plan = await asyncio.to_thread(plan_lead, env.db, {"email": email, "email_id": email_id})
    kind, record = await find_person(env, [plan.email])
    if not kind:
        return text_result(f"Salesforce has no contact or lead with the address {plan.email}.")
    data = {"id": record.get("Id"), "object": kind}
    return text_result(f"Salesforce {describe(kind, record)}.", data=data)


@tool
async def salesforce_find_contact(
    email: str = "",
    email_id: str = "",
    *,
    env: Annotated[SalesforceEnv, InjectedToolArg],
) -> ToolResult:
    """Look up a Salesforce contact or lead by e-mail address, or by the sender of a mail by its id."""  # noqa: E501 — the model reads it as one line
    return await _find(env, email, email_id)


@tool
async def salesforce_create_lead(
    email_id: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    *,
    env: Annotated[SalesforceEnv, InjectedToolArg],
) -> ToolResult:
    """Find or create a Salesforce lead for the sender of a mail by its id, or for an address."""
    args = {"email_id": email_id, "email": email, "first_name": first_name}
    args |= {"last_name": last_name, "company": company}
    plan = await asyncio.to_thread(plan_lead, env.db, args)
    cite = f" [msg:{plan.email_id}]" if plan.email_id else ""
    kind, record = await find_person(env, [plan.email])
    if kind:
        text = f"Salesforce already has this {describe(kind, record)}; nothing was changed."
        return text_result(text + cite, data={"id": record.get("Id"), "created": False})
    action = f"create the lead {plan.email}"
    status, body = await call(
        env, "POST", "/sobjects/Lead", action=action, body=plan.fields, accept=frozenset({400})
    )
    if status == 400:
        return _refused(plan.email, body, cite)
    lead_id = body.get("id") if isinstance(body, dict) else None
    made = {"Id": lead_id, **plan.fields}
    text = f"Created Salesforce {describe('Lead', made)} as a new lead."
    return text_result(text + cite, data={"id": lead_id, "created": True})


def _refused(address: str, body: Any, cite: str) -> ToolResult:
    """A 400 to a new lead: a match of the org's duplicate rules is said, not failed.

    Raises:
        IntegrationError: any other 400 (a required field, a validation rule, ...).

    """
    matched = duplicate_ids(body)
    if not matched:
        said = errors_text(body) or "(no details)"
        why = f"could not create the lead {address}: 400 Bad Request: {said}"
        raise IntegrationError(INTEGRATION, f"Salesforce {why}", status=400)
    text = (
        f"Salesforce's duplicate rules match an existing record for {address} "
        f"(id {', '.join(matched)}); no new lead was created."
    )
    data = {"id": matched[0], "created": False, "duplicates": matched}
    return text_result(text + cite, data=data)


@tool
async def salesforce_log_email(
    email_id: str,
    email: str = "",
    *,
    env: Annotated[SalesforceEnv, InjectedToolArg],
) -> ToolResult:
    """Log a mail by its id as a completed email activity on its sender's Salesforce contact or lead."""  # noqa: E501 — the model reads it as one line
    plan = await asyncio.to_thread(plan_log, env.db, {"email_id": email_id, "email": email})
    cite = f" [msg:{plan.email_id}]"
    kind, record = await find_person(env, plan.addresses)
    if not kind:
        raise ToolFailure(
            f"Salesforce has no contact or lead with the address {' or '.join(plan.addresses)}: "
            "create the lead first (salesforce_create_lead), then log the mail"
        )
    who = str(record.get("Id"))
    soql = (
        f"SELECT Id, Subject FROM Task WHERE WhoId = {soql_text(who)} "
        f"AND Subject = {soql_text(plan.fields['Subject'])} LIMIT 1"
    )
    found = await query(env, soql, action="look for the mail among the activities")
    if found:
        text = (
            f"This mail is already logged on Salesforce {describe(kind, record)} "
            f"(task {found[0].get('Id')}); nothing was changed."
        )
        return text_result(text + cite, data={"id": found[0].get("Id"), "created": False})
    _, body = await call(
        env, "POST", "/sobjects/Task", action="log the mail", body={"WhoId": who, **plan.fields}
    )
    task_id = body.get("id") if isinstance(body, dict) else None
    text = f"Logged the mail on Salesforce {describe(kind, record)} as task {task_id}."
    return text_result(text + cite, data={"id": task_id, "created": True, "who": who})


SALESFORCE_TOOLS = [salesforce_create_lead, salesforce_log_email, salesforce_find_contact]
READ_ONLY_SALESFORCE_TOOLS = frozenset({"salesforce_find_contact"})


def preview(db: AppDatabase, name: str, args: dict[str, Any]) -> ActionPreview | None:
    """The card of a lead or a logged mail: the fields it will be written with."""
    if name == "salesforce_create_lead":
        plan = plan_lead(db, args)
        return ActionPreview(
            title=f"Find or create the Salesforce lead {plan.email}",
            fields=tuple(plan.fields.items()),
            content=(
                "Salesforce is searched for a contact or lead with this address first; the lead "
                "is created only if there is none, and an existing one is left unchanged."
            ),
            notes=plan.notes,
        )
    if name == "salesforce_log_email":
        log = plan_log(db, args)
        fields = {"Email": ", ".join(log.addresses), **log.fields}
        description = fields.pop("Description")
        return ActionPreview(
            title="Log the mail on its Salesforce contact or lead",
            fields=tuple(fields.items()),
            content=description,
            notes=(
                "It goes on the contact with this address, else on the lead; a mail logged "
                "there before is not logged twice.",
            ),
        )
    return None


TokensFor = Callable[[str], SalesforceTokens]
"""An account's name → its tokens (the vault's)."""


def crm_account(environ: Mapping[str, str]) -> str:
    """The account of `SMART_INBOX_CRM=salesforce:ACCOUNT`; '' when another CRM (or none)."""
    scheme, _, account = environ.get(CRM_SETTING, "").strip().partition(":")
    if scheme.strip().lower() != "salesforce":
        return ""
    name = account.strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", name):
        raise ToolFailure(
            f"{CRM_SETTING}=salesforce:ACCOUNT needs the name given to "
            "`smart-inbox accounts add salesforce NAME`"
        )
    return name


def salesforce_toolkit(
    db: AppDatabase, http: HttpSettings, environ: Mapping[str, str], tokens_for: TokensFor
) -> Toolkit:
    """The Salesforce tools on the account `SMART_INBOX_CRM` names, or absent with what to do."""
    base = Toolkit(
        name="salesforce",
        tools=SALESFORCE_TOOLS,
        read_only=READ_ONLY_SALESFORCE_TOOLS,
        timeout=None,
    )
    try:
        account = crm_account(environ)
        if not account:
            return replace(base, missing=NOT_CONFIGURED)
        tokens = tokens_for(account)
    except (ToolFailure, TokenError) as err:
        logger.warning("Salesforce is left out: %s", err)
        return replace(base, missing=f"Salesforce is not configured: {err}")
    if tokens.provider != "salesforce":
        return replace(
            base,
            missing=(
                f"Salesforce is not configured: account {account} is a {tokens.provider} "
                f"account; run `smart-inbox accounts add salesforce NAME` and set {CRM_SETTING}"
            ),
        )
    env = SalesforceEnv(tokens=tokens, db=db, http=http)
    return replace(base, env=env, preview=lambda name, args: preview(db, name, args))
