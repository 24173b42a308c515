"""The two hosts the exchange tests run against, behind one small interface.

``ReferenceHost`` is ``mimosa_host`` served over HTTP (``LiveHost``); ``ContractExchange`` is the
contract host of ``tests/contract_host``, written from HOST_CONTRACT.md alone. A test body reads
and moves host records through these methods only, so it runs unchanged against both:
``beneficiary(id)``, ``edit_beneficiary(id, **fields)`` (an edit in the host's own pages),
``movement(id)``, ``movements_for(beneficiary_id)``, ``transitions(movement_id)`` (the statuses of
its change feed, in order) and ``advance(movement_id, status)`` (the travel desk's hand). Records
come back as the contract host's plain dataclasses.

This module is the bridge between the two: it reads the reference host's rows (and the demo's
data, to seed the contract host), which the contract host itself never does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from contract_host import store
from contract_host.server import ContractHost

from mimosa_host import enablement, models
from mimosa_host.context import system_context
from mimosa_host.demo import CTM_MISSIONS, api_credentials
from mimosa_host.soap import models as soap_models


def _beneficiary(row: models.Beneficiary) -> store.Beneficiary:
    return store.Beneficiary(
        beneficiary_id=row.beneficiary_id,
        mission_code=row.mission_code,
        family_name=row.family_name,
        given_name=row.given_name,
        middle_name=row.middle_name,
        sex=row.sex,
        birth_date=row.birth_date,
        birth_date_estimated=row.birth_date_estimated,
        nationality=row.nationality,
        documents=[store.Document(d.type, d.number, d.issuing_country, d.expires) for d in row.documents],
        languages=list(row.languages),
        vulnerabilities=list(row.vulnerabilities),
        project_code=row.project_code,
        record_version=row.record_version,
        # SQLite hands back naive datetimes: they are UTC.
        last_modified=row.last_modified.replace(tzinfo=row.last_modified.tzinfo or UTC),
    )


def _movement(row: models.Movement) -> store.Movement:
    return store.Movement(
        movement_id=row.movement_id,
        mission_code=row.mission_code,
        project_code=row.project_code or "",
        movement_type=row.movement_type,
        beneficiary_ids=[b.beneficiary_id for b in row.beneficiaries],
        origin=(row.origin_country, row.origin_location),
        destination=(row.destination_country, row.destination_location),
        earliest_departure=row.earliest_departure,
        escort=row.escort_type,
        fit_to_travel=row.fit_to_travel,
        status=row.status,
        remarks=row.remarks,
    )


class ReferenceHost:
    """``mimosa_host`` over HTTP, its rows read and moved through its own database."""

    kind = "reference"

    def __init__(self, live: Any) -> None:  # a tests/conftest.py LiveHost
        self.live = live
        self.base_url = live.base_url
        self.rt = live.rt

    @property
    def faults(self) -> Any:
        return self.live.faults

    def beneficiary(self, beneficiary_id: str) -> store.Beneficiary | None:
        with self.rt.factory() as s:
            row = s.get(models.Beneficiary, beneficiary_id)
            return None if row is None else _beneficiary(row)

    def edit_beneficiary(self, beneficiary_id: str, **changes: Any) -> None:
        with self.rt.factory() as s, s.begin():
            row = s.get(models.Beneficiary, beneficiary_id)
            for name, value in changes.items():
                setattr(row, name, value)
            row.last_modified = datetime.now(UTC)  # RecordVersion: the mapper's version counter

    def add_people(self, people: list[store.Beneficiary]) -> None:
        """New beneficiaries in the host's records, written straight into its tables."""
        with self.rt.factory() as s, s.begin():
            for person in people:
                s.add(
                    models.Beneficiary(
                        beneficiary_id=person.beneficiary_id,
                        mission_code=person.mission_code,
                        family_name=person.family_name,
                        given_name=person.given_name,
                        sex=person.sex,
                        birth_date=person.birth_date,
                        nationality=person.nationality,
                        languages=person.languages,
                        project_code=person.project_code,
                    )
                )

    def movement(self, movement_id: str) -> store.Movement | None:
        with self.rt.factory() as s:
            row = s.get(models.Movement, movement_id)
            return None if row is None else _movement(row)

    def movements_for(self, beneficiary_id: str) -> list[store.Movement]:
        with self.rt.factory() as s:
            rows = s.scalars(
                sa.select(models.Movement)
                .join(models.movement_beneficiary)
                .where(models.movement_beneficiary.c.beneficiary_id == beneficiary_id)
            )
            return [_movement(row) for row in rows]

    def transitions(self, movement_id: str) -> list[str]:
        with self.rt.factory() as s:
            changes = sa.select(soap_models.MovementChange.status).where(
                soap_models.MovementChange.movement_id == movement_id
            )
            return list(s.scalars(changes.order_by(soap_models.MovementChange.seq)))

    def advance(self, movement_id: str, status: str) -> None:
        from mimosa_host.soap import movements

        with self.rt.factory() as s, s.begin():
            movements.transition(s, movement_id, status, now=datetime.now(UTC))

    def book_requested(self) -> None:
        """The travel desk books every requested movement now."""
        from mimosa_host.soap.travel_desk import book_requested

        book_requested(self.rt.factory, datetime.now(UTC), delay=timedelta(0))


class ContractExchange:
    """The contract host, seeded with the demo's records and API users."""

    kind = "contract"

    def __init__(self, host: ContractHost) -> None:
        self.host = host
        self.base_url = host.base_url
        self.faults = host.faults
        self.store = host.store

    def beneficiary(self, beneficiary_id: str) -> store.Beneficiary | None:
        return self.store.beneficiary(beneficiary_id)

    def edit_beneficiary(self, beneficiary_id: str, **changes: Any) -> None:
        self.store.edit_beneficiary(beneficiary_id, **changes)

    def add_people(self, people: list[store.Beneficiary]) -> None:
        """New beneficiaries in the host's records."""
        for person in people:
            self.store.put_beneficiary(person)

    def movement(self, movement_id: str) -> store.Movement | None:
        return self.store.movement(movement_id)

    def movements_for(self, beneficiary_id: str) -> list[store.Movement]:
        return self.store.movements_for(beneficiary_id)

    def transitions(self, movement_id: str) -> list[str]:
        with self.store.lock:
            return [change.status for change in self.store.changes if change.movement_id == movement_id]

    def advance(self, movement_id: str, status: str) -> None:
        legs = None
        if status == "BOOKED":  # the travel desk books a flight
            movement = self.store.movements[movement_id]
            departure = datetime.combine(movement.earliest_departure, datetime.min.time(), UTC) + timedelta(hours=8)
            legs = [
                store.Leg(1, "Contract Air", "CA101", movement.origin[1], movement.destination[1], departure,
                          departure + timedelta(hours=3))
            ]  # fmt: skip
        self.store.advance(movement_id, status, legs)

    def book_requested(self) -> None:
        """The travel desk books every requested movement now."""
        with self.store.lock:
            waiting = sorted(m.movement_id for m in self.store.movements.values() if m.status == "REQUESTED")
        for movement_id in waiting:
            self.advance(movement_id, "BOOKED")


def seeded_store(rt: Any) -> store.Store:
    """A contract host's store holding the demo's beneficiaries and its CTM missions' API users.

    Every other person's documents have no expiry date (BEN-1000001's among them): the contract
    host then leaves ``expires`` out, as the contract allows.
    """
    seeded = store.Store()
    for mission in CTM_MISSIONS:
        seeded.add_api_user(*api_credentials(mission), [mission])
    with rt.factory() as s:
        for row in s.scalars(sa.select(models.Beneficiary)):
            record = _beneficiary(row)
            if int(record.beneficiary_id[-1]) % 2:
                for document in record.documents:
                    document.expires = None
            seeded.put_beneficiary(record)
    return seeded


def point_ctm_missions_at(rt, base_url: str) -> None:  # noqa: ANN001 - a Runtime
    """The demo's CTM missions set to reach the host at ``base_url``, as an administrator would."""
    with rt.factory() as s, s.begin():
        for state in s.scalars(sa.select(models.PluginEnablement).filter_by(plugin_name="ctm", enabled=True)).all():
            ctx = system_context(s, rt.host, rt.factory, s.get(models.Mission, state.mission_code))
            settings = {**state.settings, "soap_base_url": base_url}
            enablement.enable(s, rt.host, state.mission_code, "ctm", settings, ctx)
