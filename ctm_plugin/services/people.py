"""The person between the CTM and the host: find and import, refresh, register first in the CTM.

The host owns identity (names, documents); the CTM keeps what its mapping brings in (gender,
birth date and its precision, citizenship, languages) and shows what each refresh changed.
A person registered in the CTM first is created in the host through the outbox, so a host
that is down loses nothing; their names travel only in that request.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from contextvars import copy_context
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa import records
from ctm_plugin.adapters.mimosa.client import BeneficiaryPage, HostClient
from ctm_plugin.adapters.mimosa.errors import HostFault
from ctm_plugin.adapters.mimosa.records import BeneficiaryRecord
from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.handover import ON_NO_RECORD
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.partner_service import ON_NO_RECORD as REFERRAL_ON_NO_RECORD
from ctm_plugin.domain.sync import (
    BENEFICIARY_FEED,
    OUT_DONE,
    OUT_FAILED,
    OUTBOX_OPEN,
    PAYLOAD_JSON,
    SYNC_CONFLICT,
    SYNC_FAILED,
    SYNC_PENDING,
    SYNC_SYNCED,
    HostLink,
    OutboxMessage,
    Sent,
    new_reference,
)
from ctm_plugin.i18n import N_
from ctm_plugin.mappings.engine import Mapping
from ctm_plugin.schemas.people import HostSearchSchema, LinkToHostSchema, PushSchema, RegisterPersonSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, IDENTITY_VIEW
from mimosa_host.plugin_api import RequestContext

from .assistance import consent_in_force
from .base import Conflict, Invalid, among, case_of_beneficiary, get_case, load, require, touch, unit_of_work
from .cases import new_case
from .feed import position_of
from .host import MappingMismatch, host_beneficiary_id, host_client, mappings
from .to_screen import FLAGGED_BY, flag_candidates, screening_codes

PERSON_FIELDS = ("gender", "birth_date", "birth_date_precision", "citizenships", "languages")
"""What the beneficiary mapping brings into the CTM's person profile."""
SHARED_FIELDS = ("gender", "birth_date", "birth_date_precision", "nationality", "languages")
"""What the CTM sends to update the host's record: its own knowledge of the person, no more."""
NAME_FIELDS = ("given_name", "middle_name", "family_name")
"""Kept together, sealed, as the person's name (``PersonProfile.name``) for re-trafficking matching only."""
OUTGOING = ("family_name", "given_name", "middle_name", "gender", "birth_date", "nationality", "languages")
"""What a person registered in the CTM first is created with in the host."""
SAVE_BENEFICIARY = "SaveBeneficiary"
PAGE_SIZE = 200
NOT_IN_HOST = N_("The person is not in the host's records yet.")


class LinkedAlready(Conflict):
    """The case stands on a host record already (linked since the form was read, or from the start)."""

    message = N_("This case is linked to the host's record already.")


NO_SUCH_BENEFICIARY = N_("The host has no beneficiary with this ID in this mission.")
ANOTHER_CASE = N_("Another case of this mission is linked to this beneficiary.")


@dataclass(frozen=True)
class HostPerson:
    """A search hit, for the caseworker to recognise the person; kept in no table."""

    beneficiary_id: str
    values: dict[str, Any]
    case_id: int | None


def search(ctx: RequestContext, data: dict[str, Any]) -> list[HostPerson]:
    """Look the person up in the host's records of this mission (name, birth date, document number)."""
    require(ctx, CASE_EDIT)
    criteria = load(HostSearchSchema(), data)
    with unit_of_work(ctx) as session:
        client, mapping = host_client(session), mappings(session)["beneficiary"]
        audit.record(session, ctx, "host.search", None, ["identity"])
    page = client.find_beneficiaries(mission_code=ctx.mission.code, page_size=50, **criteria)
    found = [records.beneficiary(item, mapping) for item in page.items]
    with unit_of_work(ctx) as session:
        cases = dict(
            session.execute(
                sa.select(Case.beneficiary_id, Case.id).where(
                    Case.beneficiary_id.in_([r.beneficiary_id for r in found])
                )
            ).all()
        )
    return [HostPerson(r.beneficiary_id, r.values, cases.get(r.beneficiary_id)) for r in found]


def beneficiaries_named(ctx: RequestContext, name: str, limit: int) -> tuple[list[str], bool]:
    """The host's beneficiaries of this mission whose family or given name begins with ``name`` (at most
    ``limit`` of each), and whether the host had more: the CTM keeps no names to search itself."""
    require(ctx, IDENTITY_VIEW)
    with unit_of_work(ctx) as session:
        client, mapping = host_client(session), mappings(session)["beneficiary"]
        audit.record(session, ctx, "host.search", None, ["identity"])
    found: dict[str, None] = {}
    more = False
    for family, given in ((name, None), (None, name)):
        page = client.find_beneficiaries(
            mission_code=ctx.mission.code, family_name=family, given_name=given, page_size=limit
        )
        found.update((records.beneficiary(item, mapping).beneficiary_id, None) for item in page.items)
        more = more or page.total > len(page.items)
    return list(found), more


def open_from_host(ctx: RequestContext, beneficiary_id: str, data: dict[str, Any]) -> int:
    """Open the case of a host beneficiary, its person profile filled by the mapping."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        client, mapping = host_client(session), mappings(session)["beneficiary"]
    record = records.beneficiary(client.get_beneficiary(beneficiary_id, ctx.mission.code), mapping)
    mapped = _mapped(record)
    with unit_of_work(ctx) as session:
        case = new_case(session, ctx, beneficiary_id, data)
        assert case.person is not None  # new_case gives every case one
        _apply_person(case.person, mapped)
        session.add(_link(ctx, case, mapping, beneficiary_id, record))
        audit.record(session, ctx, "host.import", case.id, ["person", "identity"])
        return case.id


def link_to_host(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> str:
    """A case received from another mission, or opened for a partner's referral, joins its person's record in
    this mission's host: from then on its tabs open from the beneficiary, and the host's record fills the person's
    profile. Returns the id."""
    require(ctx, CASE_EDIT)
    values = load(LinkToHostSchema(), data)
    beneficiary_id = values["beneficiary_id"]
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        if (
            not case.beneficiary_id.startswith((ON_NO_RECORD, REFERRAL_ON_NO_RECORD))
            or session.get(HostLink, case.id) is not None
        ):
            raise LinkedAlready
        client, mapping = host_client(session), mappings(session)["beneficiary"]
    try:
        reply = client.get_beneficiary(beneficiary_id, ctx.mission.code)
    except HostFault as fault:
        if fault.code in ("NOT_FOUND", "FORBIDDEN_MISSION"):
            raise Invalid({"beneficiary_id": [NO_SUCH_BENEFICIARY]}) from None
        raise
    record = records.beneficiary(reply, mapping)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        touch(case, ctx, values["version"])
        if case_of_beneficiary(session, beneficiary_id) is not None:
            raise Invalid({"beneficiary_id": [ANOTHER_CASE]})
        case.beneficiary_id = beneficiary_id
        _refresh_case(session, ctx, case, record, mapping, None)
        audit.record(session, ctx, "host.link", case.id, ["person", "identity"])
    return beneficiary_id


def refresh(ctx: RequestContext, case_id: int) -> list[dict[str, Any]]:
    """Bring the host's current record into the case; returns (and keeps) what changed."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        client, mapping = host_client(session), mappings(session)["beneficiary"]
        beneficiary_id = host_beneficiary_id(session, case)
        if beneficiary_id is None:
            raise Invalid({"host": [NOT_IN_HOST]})
    # Another person's record (or mission's) is refused by the client: nothing below runs.
    record = records.beneficiary(client.get_beneficiary(beneficiary_id, ctx.mission.code), mapping)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        changes = _refresh_case(session, ctx, case, record, mapping, session.get(HostLink, case_id))
        audit.record(session, ctx, "host.refresh", case_id, ["person", "identity"])
        return changes


def pull(ctx: RequestContext, progress: Any = None) -> int:
    """Refresh every linked case whose host record changed since the last pull; returns how many.

    ``progress(done, total)`` is told after each page (the CLI draws a bar with it). The host is asked
    for the next page while this one is written (:func:`_pages`); each page is written in a transaction
    of its own, in the host's order, and the feed's position moves only once the last one is: a pull cut
    short is read again from the same position next time, and a page read twice refreshes nothing twice.
    Every page is read by the mapping, and flagged by the screening codes, in force when the pull began.
    """
    with unit_of_work(ctx) as session:
        client, mapping = host_client(session), mappings(session)["beneficiary"]
        since = position_of(session, ctx, BENEFICIARY_FEED).position
    codes = screening_codes(ctx)
    started, refreshed, seen = utcnow(), 0, 0
    with closing(_pages(client, ctx.mission.code, datetime.fromisoformat(since) if since else None)) as pages:
        for batch in pages:
            with unit_of_work(ctx) as session:
                refreshed += _pull_page(session, ctx, batch.items, mapping, codes)
            seen += len(batch.items)
            if progress:
                progress(seen, batch.total)
    with unit_of_work(ctx) as session:
        # Records changed while this pull ran are read again next time: the host's clock decides.
        position_of(session, ctx, BENEFICIARY_FEED).position = started.isoformat()
    return refreshed


def _pages(client: HostClient, mission_code: str, since: datetime | None) -> Generator[BeneficiaryPage, None, None]:
    """The host's pages of ``mission_code``'s records changed since ``since``, to the last, one at a time.

    Page N + 1 is asked for (in a thread of its own, one page ahead, no more) as page N is handed over: the
    host prepares it while the CTM writes page N. What the host answers for it, or how it failed, comes out
    only when the caller asks for it, after page N is written, as if it had been asked for then. Closed
    early, the generator waits for the page in flight (the connection's timeouts bound it) and drops it.
    """

    def fetch(page: int) -> BeneficiaryPage:
        return client.find_beneficiaries(
            mission_code=mission_code, modified_since=since, page=page, page_size=PAGE_SIZE
        )

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctm-pull") as ahead:
        page, seen, upcoming = 1, 0, ahead.submit(copy_context().run, fetch, 1)
        while True:
            batch = upcoming.result()
            seen += len(batch.items)
            last = seen >= batch.total or not batch.items
            if not last:
                page += 1
                upcoming = ahead.submit(copy_context().run, fetch, page)
            yield batch
            if last:
                return


def _pull_page(session: Session, ctx: RequestContext, items: list[Any], mapping: Mapping, codes: frozenset[str]) -> int:
    """One page of the pull: refresh the cases linked to its records, flag those to screen; how many refreshed.

    Every record is read for what flagging needs (:data:`FLAGGED_BY`); only those of linked cases are then
    mapped whole, to refresh their case.
    """
    found: dict[str, BeneficiaryRecord] = {}
    elements = {}
    for item in items:
        record = records.beneficiary(item, mapping, FLAGGED_BY)
        found[record.beneficiary_id], elements[record.beneficiary_id] = record, item
    cases = session.scalars(
        sa.select(Case).options(sa.orm.selectinload(Case.person)).where(among(session, Case.beneficiary_id, found))
    ).all()
    links: dict[int, HostLink] = {}
    if cases:  # most pages refresh no case: no query for their links
        rows = session.scalars(sa.select(HostLink).where(among(session, HostLink.case_id, [c.id for c in cases])))
        links = {link.case_id: link for link in rows}
    for case in cases:
        record = records.beneficiary(elements[case.beneficiary_id], mapping)
        _refresh_case(session, ctx, case, record, mapping, links.get(case.id))
    flag_candidates(session, ctx, found, cases_of={case.beneficiary_id for case in cases}, codes=codes)
    if cases:
        audit.record(session, ctx, "host.pull", None, ["person"])
    return len(cases)


def register(ctx: RequestContext, data: dict[str, Any]) -> int:
    """A person the host does not know yet: open their case and queue their creation in the host."""
    require(ctx, CASE_EDIT)
    values = load(RegisterPersonSchema(), data)
    with unit_of_work(ctx) as session:
        mapping = mappings(session)["beneficiary"]
        reference = new_reference()
        # Until the host has given the person an id, the case stands on the request's reference.
        case = new_case(session, ctx, f"PENDING-{reference[4:16]}", {"opened_on": values["opened_on"]})
        person = {name: values.get(name) for name in (*PERSON_FIELDS, *NAME_FIELDS) if name != "citizenships"}
        person["citizenships"] = [values["nationality"]] if values.get("nationality") else []
        assert case.person is not None  # new_case gives every case one
        _apply_person(case.person, person)
        session.add(
            Consent(
                mission_code=ctx.mission.code,
                case_id=case.id,
                purpose="HostSharing",
                items=["ConsentedToInterview", "InformedOfDataUses"],
                given_on=values["consent_given_on"],
                method=values["consent_method"],
                recorded_by=actor(ctx),
            )
        )
        outgoing = {
            **{name: values.get(name) for name in OUTGOING},
            "birth_date_precision": person["birth_date_precision"],
            "mission_code": ctx.mission.code,
        }
        session.add(
            OutboxMessage(
                mission_code=ctx.mission.code,
                case_id=case.id,
                operation=SAVE_BENEFICIARY,
                client_reference=reference,
                payload=records.request_text(mapping, outgoing),
                mapping_id=mapping.id,
                mapping_version=str(mapping.version),
                created_by=actor(ctx),
            )
        )
        session.add(
            HostLink(
                mission_code=ctx.mission.code,
                case_id=case.id,
                mapping_id=mapping.id,
                mapping_version=str(mapping.version),
                sync_status=SYNC_PENDING,
            )
        )
        audit.record(session, ctx, "host.register", case.id, ["person", "identity", "consent"])
        return case.id


def push(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """Queue an update of the host's record with what the CTM knows of the person.

    The update carries the host's ``RecordVersion`` this side last saw: if the host's record
    changed since, the host answers ``CONFLICT`` and the case shows both versions.
    """
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        touch(case, ctx, load(PushSchema(), data)["version"])
        link = session.get(HostLink, case.id)
        if link is None and host_beneficiary_id(session, case) is not None:
            raise Invalid({"host": [N_("Refresh from the host first: the case has not read the host's record yet.")]})
        if link is None or link.beneficiary_id is None:
            raise Invalid({"host": [NOT_IN_HOST]})
        if consent_in_force(session, case.id, "HostSharing") is None:
            raise Invalid({"host": [N_("The person's consent to sharing with the host is not in force.")]})
        if session.scalar(
            sa.select(OutboxMessage.id).where(OutboxMessage.case_id == case.id, OutboxMessage.status.in_(OUTBOX_OPEN))
        ):
            raise Invalid({"host": [N_("An earlier change is still on its way to the host.")]})
        if data.get("keep") == "ours" and link.conflict:
            link.host_version = link.conflict["host_version"]  # the user saw the host's version and keeps theirs
        mapping = mappings(session)["beneficiary"]
        assert case.person is not None  # new_case gives every case one
        ours = _shared(case.person)
        update = {"beneficiary_id": link.beneficiary_id, "record_version": link.host_version, "fields": ours}
        session.add(
            OutboxMessage(
                mission_code=ctx.mission.code,
                case_id=case.id,
                operation=SAVE_BENEFICIARY,
                client_reference=new_reference(),
                payload=json.dumps(update, default=str),
                payload_kind=PAYLOAD_JSON,
                mapping_id=mapping.id,
                mapping_version=str(mapping.version),
                created_by=actor(ctx),
            )
        )
        link.sync_status, link.error, link.conflict = SYNC_PENDING, None, None
        audit.record(session, ctx, "host.push", case.id, ["person", "identity"])


def _shared(person: PersonProfile) -> dict[str, Any]:
    values = {name: getattr(person, name) for name in SHARED_FIELDS if name != "nationality"}
    values["nationality"] = person.citizenships[0] if person.citizenships else None
    return values


def link_of(ctx: RequestContext, case_id: int) -> HostLink | None:
    """The case's link to the host, for the case page (detached)."""
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        link = session.get(HostLink, case_id)
        if link is not None:
            session.expunge(link)
        return link


# -- shared by import, refresh and pull --------------------------------------------------------


def _mapped(record: BeneficiaryRecord) -> dict[str, Any]:
    if record.errors:
        raise MappingMismatch(record.errors)
    return {name: record.values.get(name) for name in (*PERSON_FIELDS, *NAME_FIELDS)}


def _apply_person(person: PersonProfile, values: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for name in PERSON_FIELDS:
        before, after = getattr(person, name), values.get(name)
        if name in ("citizenships", "languages"):
            after = list(after or [])
        elif name == "birth_date_precision":
            after = after or "Unknown"
        if before != after:
            changes.append({"field": name, "before": _plain(before), "after": _plain(after)})
            setattr(person, name, after)
    # The sealed copy of the names follows the host's; never among the changes, which are stored plain.
    names = " ".join(str(values[part]).strip() for part in NAME_FIELDS if values.get(part))
    if names and person.name != names:
        person.name = names
    return changes


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _typed(name: str, value: Any) -> Any:
    """A value back from the outbox's JSON (dates travel as ISO text)."""
    return date.fromisoformat(value) if name == "birth_date" and value else value


def _link(
    ctx: RequestContext, case: Case, mapping: Mapping, beneficiary_id: str, record: BeneficiaryRecord
) -> HostLink:
    return HostLink(
        mission_code=ctx.mission.code,
        case_id=case.id,
        beneficiary_id=beneficiary_id,
        host_version=record.record_version,
        mapping_id=mapping.id,
        mapping_version=str(mapping.version),
        sync_status=SYNC_SYNCED,
        synced_at=utcnow(),
        changes=[],
    )


def _refresh_case(
    session: Session,
    ctx: RequestContext,
    case: Case,
    record: BeneficiaryRecord,
    mapping: Mapping,
    link: HostLink | None,
) -> list[dict[str, Any]]:
    """Copy the host's record into the case's person and mark the link synced; returns what changed.

    It passes no ``touch``: a closed case (or one handed over) is refreshed and pulled too. What it
    writes is the host's own copy (the person's fields the host owns, the link's sync state), never the
    case's work, so it is kept in step with the host whatever the case's state: a reopened case starts
    from the host's record as it is, and nothing on a closed case goes stale meanwhile.
    """
    assert case.person is not None  # new_case gives every case one
    changes = _apply_person(case.person, _mapped(record))
    if link is None:
        link = _link(ctx, case, mapping, case.beneficiary_id, record)
        session.add(link)
    link.host_version, link.mapping_id, link.mapping_version = record.record_version, mapping.id, str(mapping.version)
    link.sync_status, link.synced_at, link.error, link.conflict = SYNC_SYNCED, utcnow(), None, None
    link.changes = changes
    return changes


# -- the relay's side: creating the person in the host --------------------------------------------


def send_person(client: HostClient, message: OutboxMessage, in_force: dict[str, Mapping]) -> Sent:
    """``SaveBeneficiary``: a creation as the mapping built it when queued, or an update mapped now."""
    if message.payload_kind == PAYLOAD_JSON:
        return _send_update(client, message, in_force)
    saved = client.save_beneficiary(message.payload, message.client_reference)
    return Sent({"beneficiary_id": saved.beneficiary_id, "record_version": saved.record_version})


def _send_update(client: HostClient, message: OutboxMessage, in_force: dict[str, Mapping]) -> Sent:
    """The host's record as it is now, with the CTM's fields over it, at the version the CTM last saw,
    mapped by the mapping in force now (whose version is stamped on the message)."""
    update = json.loads(message.payload)
    mapping = in_force[message.mapping_id]
    current = records.beneficiary(
        client.get_beneficiary(update["beneficiary_id"], message.mission_code), mapping
    ).values
    ours = {name: _typed(name, value) for name, value in update["fields"].items()}
    record = {**current, **ours, "record_version": update["record_version"]}
    try:
        saved = client.save_beneficiary(records.request_text(mapping, record), message.client_reference)
    except HostFault as fault:
        if fault.code == "CONFLICT":
            fault.details = {
                "ours": {k: _plain(v) for k, v in ours.items()},
                "host": {k: _plain(current.get(k)) for k in ours},
                "host_version": current.get("record_version"),
            }
        raise
    return Sent({"beneficiary_id": saved.beneficiary_id, "record_version": saved.record_version}, str(mapping.version))


def apply_person(session: Session, message: OutboxMessage) -> None:
    link = session.get(HostLink, message.case_id)
    if link is None:
        return
    if message.status == OUT_DONE:
        case = session.get_one(Case, message.case_id)
        assert message.result is not None  # a message is done with the host's answer
        case.beneficiary_id = link.beneficiary_id = message.result["beneficiary_id"]
        link.host_version, link.sync_status, link.synced_at = message.result["record_version"], SYNC_SYNCED, utcnow()
        link.mapping_id, link.mapping_version = message.mapping_id, message.mapping_version
        link.error = link.conflict = None
        message.payload = ""  # what went out now lives in the host; the CTM keeps no copy
    elif message.status == OUT_FAILED:
        link.sync_status = SYNC_CONFLICT if message.error_code == "CONFLICT" else SYNC_FAILED
        link.error = message.error
        link.conflict = message.result if link.sync_status == SYNC_CONFLICT else None
    else:
        link.sync_status, link.error = SYNC_PENDING, None
