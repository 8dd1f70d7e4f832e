"""The hub's topics: created when absent, kept for ever."""

from __future__ import annotations

import contextlib
import threading

import structlog
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from hub.bus.backoff import Backoff
from hub.settings import HubSettings

logger = structlog.get_logger("hub.bus.topics")

#: Retention of every hub topic: for ever (the events topic is the province's record).
_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}


def ensure_topics(settings: HubSettings) -> None:
    """Create the actions, events, rejects and checkpoints topics if they do not exist (the
    checkpoints topic has one partition: checkpoints are read in the order they were signed)."""
    assert settings.kafka_bootstrap is not None
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="dvchub-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            settings.kafka_actions_topic,
            settings.kafka_events_topic,
            settings.kafka_rejects_topic,
        ]
        partitions = dict.fromkeys(wanted, settings.kafka_partitions)
        partitions[settings.kafka_checkpoints_topic] = 1
        missing = [
            NewTopic(name, count, 1, topic_configs=dict(_FOREVER))
            for name, count in partitions.items()
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another process was first
                admin.create_topics(missing)
            logger.info("topics.created", topics=[t.name for t in missing])
    finally:
        admin.close()


def wait_for_topics(settings: HubSettings, stop: threading.Event) -> bool:
    """:func:`ensure_topics`, waiting for the broker as long as it takes (a hub may start
    before Kafka does); False if ``stop`` was set first."""
    backoff = Backoff()
    while not stop.is_set():
        try:
            ensure_topics(settings)
            return True
        except KafkaError as error:
            delay = backoff.next()
            logger.warning(
                "kafka.unavailable",
                bootstrap=settings.kafka_bootstrap,
                error=repr(error),
                retry_in=delay,
            )
            stop.wait(delay)
    return False
