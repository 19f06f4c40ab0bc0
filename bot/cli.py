"""The `aftercare` command. Heavy imports happen inside each subcommand, so `--help` is instant."""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

# Before anything imports TensorFlow (spaCy's thinc does when it is installed, and so does the
# model code): its C++ start-up chatter is noise on a command line.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bot.assistant.runtime import DEFAULT_MODEL  # noqa: E402


def _train(args: argparse.Namespace) -> None:
    from bot.assistant.training import train

    train(args.model, force=args.force)


def _shell(args: argparse.Namespace) -> None:
    from bot.assistant.shell import run_shell
    from bot.assistant.training import train

    run_shell(train(args.model))


def _detect(args: argparse.Namespace) -> None:
    """Show what the safety detector sees in one message (for clinicians reviewing rules)."""
    # spaCy imports thinc, and thinc imports TensorFlow whenever it is installed (2-3 s); the rules
    # detector never uses it, and this process only detects and exits: hide TensorFlow from it.
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]
    from bot.triage import get_detector

    detection = get_detector().detect(args.text)
    for f in detection.findings:
        print(f"{f.sign:22} {f.tier.value:14} {f.status:16} {f.evidence!r}")
    print(f"tier: {detection.tier.value}")


BUILT_IN = ("train", "shell", "detect")


def build_parser(extensions: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aftercare", description="Marrow Aftercare assistant")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train the Rasa model if its data changed")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--force", action="store_true", help="train even if nothing changed")
    p.set_defaults(func=_train)

    p = sub.add_parser("shell", help="chat with the assistant in this terminal")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.set_defaults(func=_shell)

    p = sub.add_parser("detect", help="run only the warning-sign detector on a message")
    p.add_argument("text")
    p.set_defaults(func=_detect)

    if extensions:
        for register in _extensions():
            register(sub)
    return parser


def _extensions():
    """Subcommands other distributions register under the `aftercare.commands` entry-point group:
    the API (serve, accounts) from this project, benchmark and evaluation from the dev-only
    tools in tools/. This package imports neither; a build without them simply lacks the verbs."""
    return [entry.load() for entry in sorted(entry_points(group="aftercare.commands"), key=lambda e: e.name)]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    # A built-in verb needs no other distribution's code (`detect` stays light): skip loading them.
    args = build_parser(extensions=not argv or argv[0] not in BUILT_IN).parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
