"""Sealed attributes: what a caseworker writes about a person is stored as ciphertext, never as text.

A model keeps the sealed text (``v1.<key id>.<...>``, :mod:`ctm_plugin.security.crypto`) in a mapped
attribute ``<name>_sealed`` whose column is called ``<name>``, and exposes the plaintext as ``<name>``
through :class:`Sealed`. The associated data binds each value to its table, column, row (primary key)
and the row's mission, so a value copied to another row does not open, and each mission's values are
under its own key (a hand-over's receiving case is written under the receiving mission's key).

An empty text is stored as it is (it says nothing of the person, and retention asks whether a
text was erased). A new row's primary key is unknown before its INSERT: the INSERT carries an empty marker, and the
value is sealed right after it (``after_insert``, in the same transaction) by an UPDATE of the row.
A row that has its key seals on set. Reading opens lazily, once per instance and sealed text.

A value that cannot be opened (its key erased, or copied from another place) reads as
:class:`Unreadable`, the translated "This record cannot be decrypted", never as another value; setting
that same text back (a form saved unchanged) keeps the sealed text. The failure is logged with the
table, column, row and key id, never the value.

Nothing may query by a sealed column's content: the class attribute is the descriptor, not a column, so
such a query fails loudly. Exact-match search on document numbers goes through
``document_number_index``, a blind index (HMAC under HQ's index key).

The sealed columns, and why (docs/administrators.md, "Encryption at rest", lists them too):

- identity fields (``ctm.identity.view``): ``ctm_perpetrator.alias`` (how the person knew them),
  ``ctm_return_preparation.document_number`` (the travel document; searched through its blind index);
- the person's names as the host gave them, for re-trafficking matching only: ``ctm_person.name``;
- names of people: ``ctm_return_preparation.escort_name``, ``ctm_referral.case_worker`` (the receiving
  organisation's contact), ``ctm_screening.interpreter``, ``ctm_reception.received_by``;
- narratives written about the person: ``ctm_case.status_reason``, ``ctm_case_closure.note`` and
  ``.refusal``, ``ctm_screening.correction_reason``, ``ctm_determination.reason``, ``ctm_event.notes``,
  ``ctm_perpetrator.notes``, ``ctm_service.notes``, ``ctm_consent.withdrawal_reason``,
  ``ctm_referral.details``, ``ctm_follow_up.note``, ``ctm_screening_candidate.dismiss_reason``,
  ``ctm_reception.immediate_needs``, ``.shelter_placement``, ``.family_contact``,
  ``ctm_monitoring_visit.missed_reason``, ``.notes``, ``ctm_return_preparation.risk_reason``,
  ``.alternative_care``, ``.bid_reason``, ``.risk_decision_reason``, ``ctm_plan_element.objective``,
  ``.status_reason``, ``ctm_disbursement.purpose``, ``.reason``, ``.override_reason``,
  ``ctm_ledger_entry.reason``, ``ctm_fund_request.justification`` and ``.reason`` (HQ's decision);
- copies of the above: ``ctm_plan_revision.changes`` (the before and after of edited objectives and reasons: the
  whole JSON document, :class:`SealedJson`), ``ctm_outbox.payload`` (what the relay sends to the host: names and
  identity; the relay opens it to send, retention erases it to an empty text once final);
- ``ctm_handover.record`` (the whole JSON document), under the receiving mission's key (``to_mission``: it opens its
  case from it) and bound to the hand-over's row; the proposing mission's tab opens it with that key too.
- a partner's credential secret, ``ctm_partner_credential.secret`` (the UsernameToken digest needs it in clear);
- what partners send through the partner service: ``ctm_inbound_referral.payload`` and
  ``ctm_partner_followup.payload`` (the whole JSON documents of fields), ``ctm_inbound_referral.decline_reason``;
- a declined hand-over's reason (``ctm_handover.decline_reason``, ``ctm_handover_event.reason``) and the older case
  trail's ``ctm_case_handover.reason``, under the proposing mission's key (``from_mission``): the case stays its.

Codes, dates, amounts, places and staff usernames stay plain: lists, research and the rules query them (the
person's ``ctm_person.birth_date`` too: the case list selects it, the child rules query it). So do
organisations' names (providers; ``ctm_ledger_entry.payee_name`` is only ever the provider paid, copied from
the mission's settings, never the person). Other free texts stay plain for these reasons: ``ctm_host_link.changes``
and ``.conflict`` hold the person's fields shared with the host (sex, birth date, languages, citizenships),
no names; ``ctm_outbox.error``, ``ctm_host_link.error`` and
``ctm_outbox.result`` are the host's technical answers; the scoring models' and mappings' ``document`` are
configuration.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, Protocol, overload

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapper, attributes

from ctm_plugin.i18n import N_, _
from ctm_plugin.security import crypto

from .models import Base

log = logging.getLogger(__name__)

_OPENED = "_ctm_opened"
"""Instance ``__dict__`` key: ``{name: (sealed text, plaintext)}``, what was opened or set."""
_TO_SEAL = "_ctm_to_seal"
"""Instance ``__dict__`` key: ``{name: plaintext}`` of a row without its primary key yet."""
PENDING = ""
"""What a new row's INSERT carries in place of a value that is sealed once the row has its key."""
CANNOT_DECRYPT = N_("This record cannot be decrypted")


def sealed_type(length: int | None = None) -> sa.types.TypeEngine[str]:
    """A sealed column's type: ``text`` on PostgreSQL (ciphertext is longer than the plaintext the form's
    schema bounds to ``length``); on SQLite, which enforces no length, the declared one stays, so that no
    table is rebuilt (a rebuild's DROP would cascade to the rows that refer to it)."""
    return sa.Text() if length is None else sa.String(length).with_variant(sa.Text(), "postgresql")


class _SqliteDocument(sa.types.TypeDecorator[str]):
    """SQLite's ``JSON`` column passing the sealed text as it is (not a document to serialise)."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: sa.Dialect) -> None:
        return None

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> None:
        return None


def sealed_document_type() -> sa.types.TypeEngine[str]:
    """A sealed JSON document's column (:class:`SealedJson`): ``text`` on PostgreSQL; SQLite keeps the ``JSON``
    the column was declared with, which it does not enforce, so that no table is rebuilt."""
    return _SqliteDocument().with_variant(sa.Text(), "postgresql")


class Unreadable(str):
    """A sealed value that cannot be opened, as it reads: the translated notice, never another value."""

    __slots__ = ()


class Codec(Protocol):
    """How a value is sealed and opened in its place (``row``: the row's primary key as text)."""

    def seal(self, plaintext: str, *, table: str, column: str, row: str, mission: str) -> str: ...

    def open(self, token: str, *, table: str, column: str, row: str, mission: str) -> str: ...


class AesGcm:
    """The one codec of the product: AES-256-GCM under the mission's key (:mod:`ctm_plugin.security.crypto`)."""

    def seal(self, plaintext: str, *, table: str, column: str, row: str, mission: str) -> str:
        return crypto.seal(plaintext, mission=mission, aad=crypto.associated_data(table, column, row, mission))

    def open(self, token: str, *, table: str, column: str, row: str, mission: str) -> str:
        if not crypto.is_sealed(token):
            raise crypto.Undecryptable("not a sealed value")
        return crypto.unseal(token, mission=mission, aad=crypto.associated_data(table, column, row, mission))


codec: Codec = AesGcm()
"""Rebound only by the benchmark, to time the same pages over plaintext (benchmarks/sealing.py)."""


def _row(obj: object) -> str:
    mapper = sa.inspect(type(obj))
    return "/".join(str(value) for value in mapper.primary_key_from_instance(obj))


class Sealed:
    """The plaintext of ``<name>_sealed``, sealed under the row's mission (see the module's docstring).

    ``index``: the purpose of a blind index kept in ``<name>_index`` for exact-match search; ``mission``: the
    attribute naming the mission whose key seals it (a hand-over's receiving mission, ``to_mission``)."""

    def __init__(self, *, index: str | None = None, mission: str = "mission_code") -> None:
        self.index, self.mission = index, mission
        self.name = self.stored = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.stored = name, f"{name}_sealed"

    def _place(self, obj: Any) -> dict[str, str]:
        return {
            "table": obj.__table__.name,
            "column": self.name,
            "row": _row(obj),
            "mission": getattr(obj, self.mission),
        }

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Sealed: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> str | None: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Sealed | str | None:
        if obj is None:
            return self
        token = getattr(obj, self.stored)
        opened = obj.__dict__.setdefault(_OPENED, {})
        known = opened.get(self.name)
        if known is not None and known[0] == token:
            return known[1]
        value = token if not token else self._open(obj, token)  # None, or an empty text (not sealed)
        opened[self.name] = (token, value)
        return value

    def _open(self, obj: object, token: str) -> str:
        place = self._place(obj)
        try:
            return codec.open(token, **place)
        except crypto.Undecryptable:
            key_id = crypto.key_id_of(token) if crypto.is_sealed(token) else "-"
            log.warning(
                "a sealed value cannot be opened: %s.%s row %s of %s, key %s",
                place["table"],
                place["column"],
                place["row"],
                place["mission"],
                key_id,
            )
            return Unreadable(_(CANNOT_DECRYPT))

    def resealed(self, obj: Any) -> str | None:
        """The value sealed again under its mission's current key (a rotation writes it in place of the
        stored one); ``None`` when the stored value cannot be opened, and so cannot be re-sealed."""
        value = self.__get__(obj)
        if value is None or isinstance(value, Unreadable):
            return None
        return codec.seal(value, **self._place(obj))

    def __set__(self, obj: Any, value: str | None) -> None:
        if value == self.__get__(obj) and sa.inspect(obj).has_identity:
            # unchanged (a form saved as it was, or the notice of an unreadable value sent back): no new
            # ciphertext, so the row is not written and the sealed value stays as it is
            return
        to_seal = obj.__dict__.setdefault(_TO_SEAL, {})
        to_seal.pop(self.name, None)
        token: str | None
        if not value:
            token = value  # None, or an empty text: nothing of the person to hide, and a query can tell it
        elif sa.inspect(obj).has_identity:
            token = codec.seal(value, **self._place(obj))
        else:
            token, to_seal[self.name] = PENDING, value
        if self.index:
            setattr(obj, f"{self.name}_index", crypto.blind_index(value, self.index) if value else None)
        setattr(obj, self.stored, token)
        obj.__dict__[_OPENED][self.name] = (token, value)


class SealedText(Sealed):
    """A sealed value of a column that is never NULL: it reads as a text (empty once erased)."""

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> SealedText: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> str: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Sealed | str | None:
        return super().__get__(obj, owner)


class SealedJson(Sealed):
    """A JSON document sealed whole, as its text: its fields are the person's (names, needs, edited texts).

    ``unreadable``: the document that stands for one that cannot be opened, made from the translated notice,
    so that a page shows the notice where the person's text would be. Assign a new document to change it: one
    changed in place is not written."""

    def __init__(self, *, unreadable: Callable[[str], Any], mission: str = "mission_code") -> None:
        super().__init__(mission=mission)
        self.unreadable = unreadable

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        text = super().__get__(obj, owner)
        if isinstance(text, Unreadable):
            return self.unreadable(text)
        return json.loads(text) if text else None

    def __set__(self, obj: Any, value: Any) -> None:
        if value == self.__get__(obj) and sa.inspect(obj).has_identity:
            return  # unchanged, or the stand-in of an unreadable document sent back: the sealed text stays
        super().__set__(obj, None if value is None else json.dumps(value, default=str))


def sealed_attributes() -> Iterator[tuple[Mapper[Any], list[str]]]:
    """Each mapped class that has sealed attributes, with their names (a rotation or a copy walks them)."""
    for mapper in Base.registry.mappers:
        names = [name for name, value in vars(mapper.class_).items() if isinstance(value, Sealed)]
        if names:
            yield mapper, names


@event.listens_for(Base, "after_insert", propagate=True)
def _seal_new_row(mapper: Mapper[Any], connection: sa.Connection, target: Any) -> None:
    """Seal the values of a row just inserted, now that its primary key is known (same transaction)."""
    pending: dict[str, str] | None = target.__dict__.pop(_TO_SEAL, None)
    if not pending:
        return
    tokens = {}
    for name, plaintext in pending.items():
        field: Sealed = getattr(type(target), name)
        tokens[name] = codec.seal(plaintext, **field._place(target))
    key = mapper.primary_key_from_instance(target)
    table: sa.Table = target.__table__
    connection.execute(
        sa.update(table)
        .where(*(column == value for column, value in zip(mapper.primary_key, key, strict=True)))
        .values(**tokens)
        .values({column: column for column in table.columns if column.onupdate is not None})  # as inserted
    )
    for name, token in tokens.items():
        attributes.set_committed_value(target, f"{name}_sealed", token)
        target.__dict__[_OPENED][name] = (token, pending[name])
