"""Process set-up that must happen before Rasa or TensorFlow is imported for inference."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

# Loggers that print patient text or model internals at DEBUG/INFO (LOG-1 in docs/security.md).
_NOISY_LOGGERS = ("rasa", "rasa_sdk", "tensorflow", "absl", "sanic", "apscheduler", "negspacy", "matplotlib", "h5py")


def prepare_runtime(threads: int | None = None) -> None:
    """Quiet logs and size TensorFlow's thread pools before the model loads.

    A small model on 2 cores answers faster with one intra-op thread: the thread hand-off
    costs more than the parallel matrix work saves.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", str(threads or 1))
    os.environ.setdefault("TF_INTER_OP_PARALLELISM_THREADS", str(threads or 1))
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("LOG_LEVEL_LIBRARIES", "ERROR")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    _quiet_structlog()

    from rasa.utils.tensorflow.environment import setup_tf_environment

    setup_tf_environment()


def _quiet_structlog() -> None:
    """Rasa 3.6 logs through structlog, which prints every event at DEBUG (tracker states,
    slot values, bot text) until configured. Keep warnings and up, and only their event
    name: event fields can carry patient text."""
    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        processors=[_event_name_only, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def _event_name_only(_logger: object, method: str, event_dict: MutableMapping[str, Any]) -> dict[str, str]:
    return {"level": method, "logger": "rasa", "message": str(event_dict.get("event", ""))[:200]}
