"""``GET /metrics``: the CTM's outbox and feed figures per mission, in Prometheus' text format, for loopback or a
token's bearer only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.sync import MOVEMENT_FEED, OUTBOX_STATUSES, FeedPosition, OutboxMessage
from mimosa_host.web import create_app

OUTSIDE = {"REMOTE_ADDR": "192.0.2.7"}


def scrape(client, **kwargs) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # noqa: ANN001, ANN003
    """Every sample of ``/metrics``, by (name, labels), parsed by prometheus_client's own parser."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def count(samples: dict, mission: str, status: str) -> float:
    return samples[("ctm_outbox_messages", (("mission", mission), ("status", status)))]


def test_metrics_count_each_missions_outbox_by_status_and_age_what_waits(app, w) -> None:  # noqa: ANN001
    client = app.test_client()
    before = scrape(client)
    now = utcnow()
    ctx = w.job_ctx("THA")
    case_id = w.open()
    rows = [
        ("unknown", now - timedelta(minutes=20), now - timedelta(minutes=20)),
        ("unknown", now - timedelta(minutes=2), now - timedelta(minutes=2)),
        ("pending", now - timedelta(minutes=10), now - timedelta(minutes=3)),  # due for 3 minutes
        ("pending", now - timedelta(hours=5), now + timedelta(hours=1)),  # backing off: not due
        ("done", now - timedelta(days=1), now - timedelta(days=1)),
    ]
    with mission_session(ctx) as s, s.begin():
        for serial, (status, created, due) in enumerate(rows):
            s.add(
                OutboxMessage(
                    mission_code="THA",
                    case_id=case_id,
                    operation="BookMovement",
                    client_reference=f"ctm-metrics-{serial}",
                    payload="<MovementRequest/>",
                    mapping_id="movement",
                    mapping_version="1",
                    status=status,
                    created_by="movement",
                    created_at=created,
                    next_attempt_at=due,
                )
            )
        position = s.scalar(sa.select(FeedPosition).where(FeedPosition.feed == MOVEMENT_FEED))
        if position is None:
            position = FeedPosition(mission_code="THA", feed=MOVEMENT_FEED)
            s.add(position)
        position.updated_at = now - timedelta(minutes=7)

    after = scrape(client)

    for status in OUTBOX_STATUSES:
        added = {"unknown": 2, "pending": 2, "done": 1}.get(status, 0)
        assert count(after, "THA", status) == count(before, "THA", status) + added
        assert count(after, "KHM", status) == count(before, "KHM", status)
    tha = (("mission", "THA"),)
    assert after[("ctm_outbox_oldest_unknown_age_seconds", tha)] >= 20 * 60
    assert after[("ctm_outbox_oldest_due_pending_age_seconds", tha)] >= 10 * 60
    assert after[("ctm_relay_lag_seconds", tha)] >= 3 * 60
    assert 7 * 60 <= after[("ctm_movement_feed_lag_seconds", tha)] < 24 * 3600
    assert after[("mimosa_plugin_metrics_up", (("mission", "THA"), ("plugin", "ctm")))] == 1
    # MDA runs no CTM: no figure of it. Counts and ages only, labelled by mission, status and plugin: no names.
    assert not any(dict(labels).get("mission") == "MDA" for _name, labels in after)
    assert {name for _metric, labels in after for name, _value in labels} == {"mission", "status", "plugin"}


def test_a_successful_read_of_the_feed_restarts_its_lag(app, w) -> None:  # noqa: ANN001
    from ctm_plugin.adapters.mimosa.client import ChangeBatch
    from ctm_plugin.services import feed

    class QuietHost:
        """Stands in for a host with no new movement change (the SOAP exchange is covered elsewhere)."""

        def get_movement_changes(self, since_token, max_changes):  # noqa: ANN001, ANN201
            return ChangeBatch(next_token=since_token or "t-1", changes=[])

    ctx = w.job_ctx("THA")
    with mission_session(ctx) as s, s.begin():
        s.add(FeedPosition(mission_code="THA", feed=MOVEMENT_FEED, position="t-1"))
    with mission_session(ctx) as s, s.begin():
        s.scalar(sa.select(FeedPosition)).updated_at = utcnow() - timedelta(hours=3)
    stale = scrape(app.test_client())[("ctm_movement_feed_lag_seconds", (("mission", "THA"),))]

    feed.apply_movement_changes(ctx, client=QuietHost())  # nothing new, the position unchanged: still a read

    fresh = scrape(app.test_client())[("ctm_movement_feed_lag_seconds", (("mission", "THA"),))]
    assert stale >= 3 * 3600
    assert fresh < stale - 3600


def test_without_a_token_metrics_are_for_this_machine_alone(app) -> None:  # noqa: ANN001
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403
    # Through a proxy the host does not trust (MIMOSA_TRUSTED_PROXIES=0), loopback says nothing of the client.
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
    refused = client.get("/metrics", environ_base=OUTSIDE)
    assert b"ctm_outbox" not in refused.get_data()


def test_behind_a_trusted_proxy_the_proxys_client_is_the_one_checked(demo) -> None:  # noqa: ANN001
    client = create_app(demo, {"TESTING": True, "TRUSTED_PROXIES": "1"}).test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    # A client's own header does not help it: the proxy appends the address it saw, the one believed.
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_with_a_token_set_metrics_need_it_from_anywhere(demo, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("MIMOSA_METRICS_TOKEN", "s3cret-scrape-token")
    client = create_app(demo, {"TESTING": True}).test_client()
    assert client.get("/metrics").status_code == 403  # loopback is not enough then
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", headers=wrong, environ_base=OUTSIDE).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "s3cret-scrape-token"}).status_code == 403
    right = {"Authorization": "Bearer s3cret-scrape-token"}
    samples = scrape(client, headers=right, environ_base=OUTSIDE)
    assert ("ctm_outbox_messages", (("mission", "THA"), ("status", "pending"))) in samples
