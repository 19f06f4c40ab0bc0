"""Train the Rasa model only when its inputs changed."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from bot.assistant.runtime import DEFAULT_MODEL

TRAINING_INPUTS = ("config.yml", "domain.yml", "data")


def fingerprint(root: Path = Path(".")) -> str:
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _beside(model: Path, suffix: str) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + suffix)


def _stamp(model: Path) -> Path:
    return _beside(model, ".fingerprint")


def training_record(model: Path) -> Path:
    """Where the last training's duration is kept (read by `aftercare bench`)."""
    return _beside(model, ".training.json")


def is_current(model: Path = DEFAULT_MODEL, root: Path = Path(".")) -> bool:
    stamp = _stamp(model)
    return model.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint(root)


def train(model: Path = DEFAULT_MODEL, force: bool = False, root: Path = Path(".")) -> Path:
    """Returns the model path; trains first if the data, domain or config changed."""
    if not force and is_current(model, root):
        print(f"model {model} is up to date with the training data", file=sys.stderr)
        return model
    from bot.assistant.environment import prepare_runtime

    prepare_runtime(threads=os.cpu_count())  # training is batch work: use every core
    from rasa.api import train as rasa_train

    print("training the Rasa model (about 4-6 minutes on 2 cores)...", file=sys.stderr)
    started = time.monotonic()
    result = rasa_train(
        domain=str(root / "domain.yml"),
        config=str(root / "config.yml"),
        training_files=[str(root / "data")],
        output=str(model.parent),
        fixed_model_name=model.name.removesuffix(".tar.gz"),
        force_training=True,
    )
    if result.code != 0 or not result.model:
        raise SystemExit(f"training failed (rasa exit code {result.code})")
    seconds = time.monotonic() - started
    _stamp(model).write_text(fingerprint(root) + "\n")
    training_record(model).write_text(json.dumps({"seconds": round(seconds, 1), "cpus": os.cpu_count()}) + "\n")
    size_mib = model.stat().st_size / 2**20
    print(f"trained {model} in {seconds:.0f} s ({size_mib:.1f} MiB)", file=sys.stderr)
    return model
