"""Synthetic demo data: three missions, one user per role, one SOAP API user per CTM mission
(see :func:`api_credentials`), beneficiaries and movements.

Every name, date and document number here is made up from fixed lists with a fixed
seed; nothing comes from a real person. THA and KHM have the CTM enabled, MDA not.
"""

from __future__ import annotations

import functools
import os
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from . import enablement
from .accounts import add_user, grant
from .context import system_context
from .db import transaction
from .models import Beneficiary, Document, Leg, Mission, Movement, User
from .passwords import hash_password
from .runtime import Runtime
from .soap.models import ApiUser
from .soap.wssecurity import add_api_user

MISSIONS = (("THA", "Thailand", "THA"), ("KHM", "Cambodia", "KHM"), ("MDA", "Moldova", "MDA"))
CTM_MISSIONS = ("THA", "KHM")
SOAP_URL_ENV = "MIMOSA_DEMO_SOAP_URL"
"""Where the demo's CTM reaches the host's SOAP services (default: this host on $PORT)."""
PASSWORD = "demo-{username}-2026"  # noqa: S105 - synthetic demo logins, printed at start

# username, display name, roles in each mission (None: all three), HQ administrator
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...] | None, bool], ...] = (
    ("caseworker", "Dara Caseworker", ("host.officer", "ctm.caseworker"), None, False),
    ("movement", "Lin Movement Officer", ("host.officer", "ctm.movement_officer"), None, False),
    ("integrator", "Ion Integrator", ("host.officer", "ctm.integrator"), None, False),
    ("admin", "Mai Mission Admin", ("host.mission_admin", "ctm.mission_admin"), None, False),
    ("hq", "Ana HQ Programme Manager", ("host.mission_admin", "ctm.hq_programme_manager"), None, True),
    ("researcher", "Noor Researcher", ("ctm.researcher",), None, False),
    ("auditor", "Sam Auditor", ("host.officer", "ctm.auditor"), None, False),
    ("khm.caseworker", "Sophea KHM Caseworker", ("host.officer", "ctm.caseworker"), ("KHM",), False),
    ("supervisor", "Vichea Supervisor", ("host.officer", "ctm.supervisor"), ("THA", "KHM"), False),
    ("analyst", "Tida Intelligence Analyst", ("ctm.intelligence_analyst",), ("THA", "KHM"), False),
    (
        "childprotection",
        "Kiri Child Protection Officer",
        ("host.officer", "ctm.child_protection_officer"),
        ("THA", "KHM"),
        False,
    ),
)

# Made-up names per region: (given names, family names).
NAMES = {
    "SEA": (
        ("Anan", "Bopha", "Chenda", "Dara", "Kanya", "Malai", "Pich", "Rotha", "Sokha", "Vanna", "Niran", "Vuthy"),
        ("Arun", "Bun", "Chan", "Kaew", "Keo", "Meas", "Phan", "Sok", "Srey", "Thong", "Vong", "Yim"),
    ),
    "EUR": (
        ("Ion", "Maria", "Andrei", "Elena", "Mihai", "Nika", "Lina", "Victor", "Olga", "Sergiu"),
        ("Dumitru", "Lungu", "Rusu", "Ungureanu", "Ceban", "Popa", "Moraru", "Cojocaru"),
    ),
}
REGION = {"THA": "SEA", "KHM": "SEA", "MDA": "EUR"}
NATIONALITY = {"THA": ("MMR", "KHM", "LAO", "THA"), "KHM": ("KHM", "VNM"), "MDA": ("MDA", "UKR", "ROU")}
LANGUAGES = {
    "MMR": "mya",
    "KHM": "khm",
    "LAO": "lao",
    "THA": "tha",
    "VNM": "vie",
    "MDA": "ron",
    "UKR": "ukr",
    "ROU": "ron",
}
AIRPORT = {
    "THA": "BKK",
    "KHM": "PNH",
    "MDA": "RMO",
    "MMR": "RGN",
    "LAO": "VTE",
    "VNM": "SGN",
    "UKR": "KBP",
    "ROU": "OTP",
}
BENEFICIARIES_PER_MISSION = 40
MISSION_DIGIT = {"THA": 1, "KHM": 2, "MDA": 3}
"""The first digit of a mission's beneficiary ids (``BEN-1000001`` is THA's)."""
PAST_PER_MISSION = 300
"""Past beneficiaries of each CTM mission (:func:`seed_past`), identified in 2021 to 2025: the people whose
closed CT cases the CTM's research story adds, so that every one of those cases opens on a host record."""
PAST_NATIONALITY = {"THA": ("MMR", "KHM", "LAO", "THA", "VNM"), "KHM": ("KHM", "VNM", "LAO")}
"""Most common first: the last ones are rare (the research story's small cells)."""


def password_for(username: str) -> str:
    return PASSWORD.format(username=username)


def api_credentials(mission_code: str) -> tuple[str, str]:
    """The demo's SOAP API user bound to one CTM mission, and its (synthetic) password."""
    code = mission_code.lower()
    return f"ctm-{code}", f"demo-soap-{code}-2026"


@functools.cache
def _password_hash(username: str) -> str:
    # Argon2 is slow on purpose; the demo's passwords are fixed, so hash each once per process.
    return hash_password(password_for(username))


TIME_ZONES = {"THA": "Asia/Bangkok", "KHM": "Asia/Phnom_Penh", "MDA": "Europe/Chisinau"}


def _ctm_settings(code: str) -> dict[str, str]:
    username, password = api_credentials(code)
    return {
        "soap_base_url": os.environ.get(SOAP_URL_ENV) or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}/",
        "soap_username": username,
        "soap_password": password,
        "case_number_prefix": f"{code}-CT",
        # The demo's records are under the first project; a return may be booked under either.
        "project_codes": f"{code}-CT-01\n{code}-AVRR-02",
        "default_project_code": f"{code}-CT-01",
        "time_zone": TIME_ZONES[code],
        # Synthetic organisations and donors: reintegration assistance and its ledger name them.
        "reintegration_providers": (
            f"NGO: {code} Hope Foundation\nGovernment: {code} Department of Social Welfare\nIOM: IOM {code}"
        ),
        "project_donors": f"{code}-CT-01: Example Donor A\n{code}-AVRR-02: Example Donor B",
    }


def seed(rt: Runtime) -> None:
    rt.upgrade_all()
    with transaction(rt.factory) as s:
        for code, name, country in MISSIONS:
            if s.get(Mission, code) is None:
                s.add(Mission(code=code, name=name, country=country))
        s.flush()
        for username, display, roles, only, hq in DEMO_USERS:
            user = s.scalar(sa.select(User).where(User.username == username))
            if user is None:
                user = add_user(s, username, display, _password_hash(username), hq)
            for code in only or [m[0] for m in MISSIONS]:
                for role in roles:
                    grant(s, user, code, role)
        for code in CTM_MISSIONS:
            username, password = api_credentials(code)
            if s.get(ApiUser, username) is None:
                add_api_user(s, username, password, [code])
        rng = random.Random(2026)  # noqa: S311 - reproducible synthetic data, not secrets
        for code, _name, _country in MISSIONS:
            if s.scalar(sa.select(sa.func.count()).where(Beneficiary.mission_code == code)):
                continue
            _seed_records(s, rng, code)
    _enable_ctm(rt)


def _seed_records(s, rng: random.Random, code: str) -> None:  # noqa: ANN001 - a Session
    prefix = MISSION_DIGIT[code]
    people = []
    for i in range(1, BENEFICIARIES_PER_MISSION + 1):
        nationality = rng.choice(NATIONALITY[code])
        b = Beneficiary(
            beneficiary_id=f"BEN-{prefix}{i:06d}",
            mission_code=code,
            family_name=rng.choice(NAMES[REGION[code]][1]),
            given_name=rng.choice(NAMES[REGION[code]][0]),
            sex=rng.choice("FFFMMX"),
            birth_date=date(1975, 1, 1) + timedelta(days=rng.randrange(0, 365 * 32)),
            birth_date_estimated=rng.random() < 0.2,
            nationality=nationality,
            languages=[LANGUAGES[nationality]],
            vulnerabilities=["VOT"] if rng.random() < 0.5 else [],
            project_code=f"{code}-CT-01",
        )
        b.documents.append(
            Document(
                type="PASSPORT",
                number=f"X{rng.randrange(10**7, 10**8)}",
                issuing_country=nationality,
                expires=date(2030, 1, 1) + timedelta(days=rng.randrange(0, 1500)),
            )
        )
        s.add(b)
        people.append(b)
    s.flush()
    for i, b in enumerate(people[:5], start=1):
        assert b.nationality is not None  # every demo beneficiary has one
        depart = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(days=7 * i)
        m = Movement(
            movement_id=f"MOV-{prefix}{i:06d}",
            mission_code=code,
            project_code=b.project_code,
            movement_type="AVRR",
            origin_country=code,
            origin_location=AIRPORT[code],
            destination_country=b.nationality,
            destination_location=AIRPORT[b.nationality],
            earliest_departure=depart.date(),
            escort_type="OPERATIONAL",
            fit_to_travel=True,
            status="BOOKED" if i % 2 else "REQUESTED",
            beneficiaries=[b],
        )
        if m.status == "BOOKED":
            m.legs.append(
                Leg(
                    sequence=1,
                    carrier="Demo Air",
                    flight_number=f"DA{100 + i}",
                    from_location=m.origin_location,
                    to_location=m.destination_location,
                    departure=depart,
                    arrival=depart + timedelta(hours=3),
                )
            )
        s.add(m)


def past_beneficiary_id(code: str, n: int) -> str:
    """The ``n``-th past beneficiary of a CTM mission: ``BEN-1100001`` on in THA, ``BEN-2100001`` on in KHM."""
    return f"BEN-{MISSION_DIGIT[code]}1{n:05d}"


def seed_past(rt: Runtime, count: int = PAST_PER_MISSION) -> int:
    """THA's and KHM's past beneficiaries (:data:`PAST_PER_MISSION` each), written in bulk: names from the fixed
    lists; a sex, a birth year (estimated) and a nationality drawn by the person's id, as the CTM's research story
    draws its copy of them, so that the CTM's first pull finds its cases' people as the story wrote them; no
    language, no vulnerability flag (their cases are closed); how many were added (0 when they are there)."""
    rng = random.Random(2021)  # noqa: S311 - reproducible synthetic data, not secrets
    added = 0
    with transaction(rt.factory) as s:
        for code, nationalities in PAST_NATIONALITY.items():
            if s.get(Beneficiary, past_beneficiary_id(code, 1)) is not None:
                continue
            given, family = NAMES[REGION[code]]
            weights = [2 ** (len(nationalities) - i) for i in range(len(nationalities))]
            for n in range(1, count + 1):
                beneficiary_id = past_beneficiary_id(code, n)
                # The person's own draws, by their id: the CTM's research story draws the same (its demo.py).
                person = random.Random(beneficiary_id)  # noqa: S311 - synthetic data, not a secret
                sex = person.choices("FMU", weights=(60, 37, 3))[0]
                born = person.randrange(1975, 2010)
                nationality = person.choices(nationalities, weights=weights)[0]
                s.add(
                    Beneficiary(
                        beneficiary_id=beneficiary_id,
                        mission_code=code,
                        family_name=rng.choice(family),
                        given_name=rng.choice(given),
                        sex=sex,
                        birth_date=date(born, 6, 15),
                        birth_date_estimated=True,
                        nationality=nationality,
                        languages=[],
                        vulnerabilities=[],
                        project_code=f"{code}-CT-01",
                    )
                )
                added += 1
    return added


def _enable_ctm(rt: Runtime) -> None:
    if "ctm" not in rt.host.active_names:
        return
    for code in CTM_MISSIONS:
        with transaction(rt.factory) as s:
            # Enabled again each time: the settings follow this run's port (or MIMOSA_DEMO_SOAP_URL).
            ctx = system_context(s, rt.host, rt.factory, s.get_one(Mission, code), "demo-seed", "Demo seed")
            enablement.enable(s, rt.host, code, "ctm", _ctm_settings(code), ctx)


def print_logins(echo: Callable[[str], None]) -> None:
    echo("Demo logins (synthetic data only):")
    for username, display, roles, only, hq in DEMO_USERS:
        where = ", ".join(only or [m[0] for m in MISSIONS])
        echo(
            f"  {username:<16} {password_for(username):<28} {display} — {', '.join(roles)} in {where}"
            + (" (HQ administrator)" if hq else "")
        )
    echo("SOAP API users (WS-Security UsernameToken, digest):")
    for code in CTM_MISSIONS:
        username, password = api_credentials(code)
        echo(f"  {username:<16} {password:<28} bound to {code}")
