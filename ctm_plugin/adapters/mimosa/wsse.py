"""WS-Security for the call in progress: a digest ``UsernameToken`` and a ``wsu:Timestamp``.

The host wants both in one ``wsse:Security`` header (HOST_CONTRACT.md §2, Security); zeep's
``UsernameToken`` makes the digest (fresh nonce, Created) but not the Timestamp, and holds one
user's password, while our zeep clients serve every mission: so the token is made per call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import etree
from zeep.wsse.username import UsernameToken
from zeep.wsse.utils import WSU

from .call import current

TIMESTAMP_TTL = timedelta(minutes=5)
"""The host refuses a Created more than 5 minutes away from its clock."""


def _zulu(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class CallSecurity:
    """A zeep ``wsse`` plugin that signs in as the current call's API user."""

    def apply(self, envelope: etree._Element, headers: dict) -> tuple[etree._Element, dict]:
        connection = current().connection
        now = datetime.now(UTC).replace(microsecond=0)
        timestamp = WSU.Timestamp(WSU.Created(_zulu(now)), WSU.Expires(_zulu(now + TIMESTAMP_TTL)))
        token = UsernameToken(
            connection.username,
            connection.password,
            use_digest=True,
            created=now,
            zulu_timestamp=True,
            timestamp_token=timestamp,
        )
        return token.apply(envelope, headers)
