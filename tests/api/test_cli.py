"""`aftercare serve` and the account commands as a newcomer meets them: clear errors, honest
help, readable server log lines."""

from __future__ import annotations

import argparse
import json
import logging
import socket

import pytest

from api.cli import bind, bind_worker, multi_process_problem, reserve
from api.logging_config import JsonFormatter
from bot.cli import build_parser, main


@pytest.mark.parametrize("port", ["0", "99999", "-1", "http"])
def test_serve_refuses_a_port_outside_1_to_65535(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["serve", "--port", port])
    assert exit_.value.code == 2
    assert "argument --port" in capsys.readouterr().err


def test_serve_accepts_the_highest_port():
    assert build_parser().parse_args(["serve", "--port", "65535"]).port == 65535


def test_a_port_in_use_is_one_clear_line_and_a_failing_exit():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(SystemExit) as exit_:
            bind("127.0.0.1", port)
    finally:
        taken.close()
    assert exit_.value.code == f"error: port {port} is already in use; pass --port"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accept_all(sock: socket.socket) -> int:
    sock.setblocking(False)
    accepted = 0
    while True:
        try:
            connection, _ = sock.accept()
        except BlockingIOError:
            return accepted
        connection.close()
        accepted += 1


def test_several_workers_each_listen_on_the_port_and_the_kernel_spreads_connections():
    port = _free_port()
    holder = reserve("127.0.0.1", port)
    workers = [bind_worker("127.0.0.1", port) for _ in range(2)]
    for sock in workers:
        sock.listen()  # what uvicorn does once the worker's app has started
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(32)]
    try:
        counts = [_accept_all(sock) for sock in workers]
    finally:
        for sock in [*clients, *workers, holder]:
            sock.close()
    assert sum(counts) == 32  # the supervisor's reservation never listens, so it is handed none
    assert 0 not in counts  # all 32 on one worker would be a 1 in 2**31 chance


@pytest.mark.parametrize("second", [bind, reserve])
def test_a_second_server_on_a_reserved_port_is_the_same_clear_error(second):
    port = _free_port()
    holder = reserve("127.0.0.1", port)
    try:
        with pytest.raises(SystemExit) as exit_:
            second("127.0.0.1", port)
    finally:
        holder.close()
    assert exit_.value.code == f"error: port {port} is already in use; pass --port"


def test_a_worker_socket_does_not_listen_before_its_app_has_started():
    port = _free_port()
    holder = reserve("127.0.0.1", port)
    worker = bind_worker("127.0.0.1", port)
    try:
        with pytest.raises(ConnectionRefusedError):  # refused at once, not queued behind a start-up
            socket.create_connection(("127.0.0.1", port), timeout=5)
    finally:
        worker.close()
        holder.close()


def _subcommand(name: str) -> argparse.ArgumentParser:
    [choices] = [a.choices for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return choices[name]


@pytest.mark.parametrize(
    "command",
    [
        "serve",
        "patient-token",
        "create-staff",
        "disable-staff",
        "list-staff",
        "enable-staff",
        "set-role",
        "reset-password",
    ],
)
def test_every_option_has_help_and_shows_its_default(command, capsys):
    parser = _subcommand(command)
    undocumented = [a.dest for a in parser._actions if not a.help]
    assert undocumented == []
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for action in parser._actions:
        if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings:
            assert f"(default: {action.default})" in text, action.dest


def test_serve_help_names_its_defaults(capsys):
    with pytest.raises(SystemExit):
        _subcommand("serve").parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 127.0.0.1)" in text and "(default: 8000)" in text


def test_uvicorn_lines_are_rendered_with_their_arguments():
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (4321,), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "Started server process [4321]"


def test_other_libraries_keep_only_the_template():
    """Their arguments may carry patient text (a request body, a tracker's latest message)."""
    record = logging.LogRecord("rasa.core", logging.WARNING, __file__, 1, "could not parse %s", ("my text",), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "could not parse %s"


@pytest.mark.parametrize(
    ("database_url", "redis_url", "missing"),
    [
        ("sqlite:///var/x.db", "redis://127.0.0.1:6379/0", ["PostgreSQL"]),
        ("postgresql://db/aftercare", "", ["Redis"]),
        ("sqlite:///var/x.db", "", ["PostgreSQL", "Redis"]),
    ],
)
def test_serve_refuses_several_workers_without_postgres_and_redis(
    database_url, redis_url, missing, monkeypatch, capsys
):
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    monkeypatch.setenv("AFTERCARE_REDIS_URL", redis_url)
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--workers", "2", "--port", "65535"])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.splitlines()  # one clear line, before anything starts
    assert line.startswith("error: --workers 2 needs ")
    for name in missing:
        assert name in line
    assert ("Redis" in line) == ("Redis" in missing)


def test_several_workers_on_postgres_and_redis_pass_the_check(make_settings):
    settings = make_settings(database_url="postgresql://db/aftercare", redis_url="redis://127.0.0.1:6379/0")
    assert multi_process_problem(settings, 4) is None
    assert multi_process_problem(make_settings(), 1) is None  # one process: SQLite, no Redis, is fine


@pytest.mark.parametrize("workers", ["0", "-2", "two", "65"])
def test_serve_refuses_a_worker_count_outside_1_to_64(workers, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["serve", "--workers", workers])
    assert exit_.value.code == 2
    assert "argument --workers" in capsys.readouterr().err
