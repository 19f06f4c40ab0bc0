"""`aftercare serve`, `patient-token`, and the staff account verbs: `create-staff`, `list-staff`,
`disable-staff`, `enable-staff`, `set-role`, `reset-password`."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def port_number(value: str) -> int:
    """argparse type: a TCP port, 1-65535 (the OS would silently pick another for 0 or wrap)."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1-65535")
    return port


def worker_count(value: str) -> int:
    """argparse type: how many server processes, 1-64."""
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} is not a worker count: use 1-64")
    return int(value)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything slow starts, so a taken port is one clear
    line and exit status 1 (not a traceback after the model started loading)."""
    sock = _socket(host)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    _bind_or_exit(sock, host, port)
    sock.listen(2048)
    return sock


def bind_worker(host: str, port: int) -> socket.socket:
    """One of several workers' sockets on the port `reserve` holds: bound, not yet listening.
    uvicorn listens on it once the worker's app has started, so no connection waits in the
    queue of a worker that is still importing or migrating."""
    sock = _socket(host)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    _bind_or_exit(sock, host, port)
    return sock


def reserve(host: str, port: int) -> socket.socket:
    """Several workers: the supervisor's hold on the port while each worker binds its own
    socket with SO_REUSEPORT, so the kernel spreads new connections evenly over the workers.
    (One shared socket does not: whichever worker wakes first accepts every connection
    waiting, and under load one worker ends up with most keep-alive connections.)

    A plain bind first, so anything already on the port, another `aftercare serve` included,
    is the same clear error; then a socket that never listens (so it is never handed a
    connection) keeps other programs off the port until the supervisor exits."""
    bind(host, port).close()
    sock = _socket(host)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    _bind_or_exit(sock, host, port)
    return sock


def _socket(host: str) -> socket.socket:
    return socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)


def _bind_or_exit(sock: socket.socket, host: str, port: int) -> None:
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            sys.exit(f"error: port {port} is already in use; pass --port")
        sys.exit(f"error: cannot listen on {host}:{port}: {error.strerror}")


def multi_process_problem(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run `workers` processes, or None. Several processes share
    nothing in memory: they need PostgreSQL for the data and Redis for the per-conversation
    locks, the live queue and the rate limits."""
    if workers <= 1:
        return None
    missing = []
    if settings.is_sqlite:
        missing.append("PostgreSQL (AFTERCARE_DATABASE_URL=postgresql://...; SQLite is for one process)")
    if not settings.redis_url:
        missing.append("Redis (AFTERCARE_REDIS_URL=redis://...)")
    if not missing:
        return None
    return f"--workers {workers} needs " + " and ".join(missing) + "; or run --workers 1"


def _run_worker(
    sockets: list[socket.socket] | None = None, own_port: tuple[str, int] | None = None, load_first: bool = False
) -> None:
    """One server process: its own settings, app and model. With one worker it runs in the
    `aftercare serve` process on the socket bound there; one of several binds its own
    (`own_port`) once its app is built. `load_first`: the model is loaded before the app is
    built, so the worker takes no connection while it would only have fail-safe replies."""
    from api.draining import DrainingServer
    from api.main import create_app
    from api.serving import uvicorn_config
    from api.settings import Settings

    settings = Settings()
    app = create_app(settings, assistant=_model_or_none(settings) if load_first else None)
    if own_port is not None:
        sockets = [bind_worker(*own_port)]
    # Bounded h11, trusted proxies only, our JSON logging (api.serving); the socket is bound already.
    DrainingServer(uvicorn_config(app, settings), app.state.ctx).run(sockets=sockets)


def _model_or_none(settings: Settings) -> Any:
    """The loaded model, or None if it cannot load (the app then serves fail-safe replies and
    tries again in the background, as a first start does)."""
    from api.main import load_assistant

    try:
        return load_assistant(settings)
    except Exception as error:  # no model file, a broken archive: the app reports it on /readyz
        print(f"warning: model did not load before listening ({type(error).__name__})", file=sys.stderr)
        return None


def _run_one_of_several(host: str, port: int, workers: int, spawned: Any, _shared: Any = None) -> None:
    """uvicorn's supervisor calls this in each child: the worker listens on its own
    SO_REUSEPORT socket (`reserve`), not on one shared with the others.

    The first `workers` children start together and listen at once (fail-safe replies, /readyz
    503, until their models load), as one process does. A later child replaces a worker that
    died while its siblings serve with their models: it loads its model before it listens, so
    the kernel hands it no connection for the 20-60 s it would answer only with fail-safe
    replies (and its /readyz 503 would make a load balancer's checks flap)."""
    with spawned.get_lock():
        spawned.value += 1
        replacement = spawned.value > workers
    _run_worker(own_port=(host, port), load_first=replacement)


def _serve(args: argparse.Namespace) -> None:
    from api.settings import Settings

    settings = Settings()
    problem = multi_process_problem(settings, args.workers)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
    sock = bind(args.host, args.port) if args.workers == 1 else reserve(args.host, args.port)
    if not settings.model_path.exists():
        print(
            f"warning: no model at {settings.model_path}; run `aftercare train` (serving fail-safe replies)",
            file=sys.stderr,
        )
    print(
        f"serving on http://{args.host}:{args.port}: demo portal /demo/portal, staff console /staff/", file=sys.stderr
    )
    if args.workers == 1:
        _run_worker([sock])
        return
    import functools
    import multiprocessing

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    # The supervisor restarts a worker that dies; each worker loads its own model and binds
    # its own socket; `sock` keeps the port reserved meanwhile and is never passed on.
    config = uvicorn.Config("api.main:create_app", workers=args.workers, log_config=None)
    spawned = multiprocessing.get_context("spawn").Value("i", 0)  # uvicorn spawns its workers
    worker = functools.partial(_run_one_of_several, args.host, args.port, args.workers, spawned)
    Multiprocess(config, target=worker, sockets=[]).run()


def _patient_token(args: argparse.Namespace) -> None:
    from api.identity import mint_patient_token
    from api.settings import Settings

    print(mint_patient_token(args.patient_id, Settings(), lifetime_seconds=args.minutes * 60))


def _create_staff(args: argparse.Namespace) -> None:
    from api.staff.accounts import create_staff_from_cli

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if not password:
        sys.exit("error: give the password on standard input with --password-stdin")
    create_staff_from_cli(email=args.email, name=args.name, role=args.role, password=password)


def _migrate(args: argparse.Namespace) -> None:
    from api.db_roles import migrate_as_owner
    from api.settings import Settings

    migrate_as_owner(Settings().database_url, args.grant_to)


def _disable_staff(args: argparse.Namespace) -> None:
    from api.staff.accounts import disable_staff_from_cli

    disable_staff_from_cli(email=args.email)


def _list_staff(args: argparse.Namespace) -> None:
    from api.staff.accounts import list_staff_from_cli

    list_staff_from_cli()


def _enable_staff(args: argparse.Namespace) -> None:
    from api.staff.accounts import enable_staff_from_cli

    enable_staff_from_cli(email=args.email)


def _set_role(args: argparse.Namespace) -> None:
    from api.staff.accounts import set_role_from_cli

    set_role_from_cli(email=args.email, role=args.role)


def _reset_password(args: argparse.Namespace) -> None:
    from api.staff.accounts import reset_password_from_cli

    reset_password_from_cli(email=args.email)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    # Every option says what it does and, where it has one, its default.
    formatter = argparse.ArgumentDefaultsHelpFormatter

    p = sub.add_parser("serve", help="serve the API, widget and staff console", formatter_class=formatter)
    p.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (0.0.0.0 for every interface)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT, help="TCP port to listen on, 1-65535")
    p.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        help="server processes, each with its own model; more than 1 needs PostgreSQL and Redis",
    )
    p.set_defaults(func=_serve)

    p = sub.add_parser(
        "migrate", help="apply database migrations (run as the database owner role)", formatter_class=formatter
    )
    p.add_argument(
        "--grant-to",
        metavar="ROLE",
        help="PostgreSQL: then grant this serving role what the service needs, and no more",
    )
    p.set_defaults(func=_migrate)

    p = sub.add_parser(
        "patient-token", help="print a development patient token (local dev key)", formatter_class=formatter
    )
    p.add_argument("patient_id", help="the patient id the token is for (its subject)")
    p.add_argument(
        "--minutes", type=int, default=15, choices=range(1, 16), metavar="1-15", help="how long the token stays valid"
    )
    p.set_defaults(func=_patient_token)

    p = sub.add_parser("create-staff", help="create a staff account", formatter_class=formatter)
    p.add_argument("--email", required=True, help="the login e-mail address (required)")
    p.add_argument("--name", required=True, help="the name colleagues see on the dashboard (required)")
    p.add_argument(
        "--role",
        required=True,
        choices=["nurse", "admin"],
        help="nurse works the queue; admin also reads the audit trail (required)",
    )
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password (12+ characters) from standard input; required"
    )
    p.set_defaults(func=_create_staff)

    p = sub.add_parser(
        "disable-staff", help="disable a staff account and end its sessions at once", formatter_class=formatter
    )
    p.add_argument("--email", required=True, help="the account's login e-mail address (required)")
    p.set_defaults(func=_disable_staff)

    p = sub.add_parser("list-staff", help="list staff accounts, one line each", formatter_class=formatter)
    p.set_defaults(func=_list_staff)

    p = sub.add_parser("enable-staff", help="re-enable a disabled staff account", formatter_class=formatter)
    p.add_argument("--email", required=True, help="the account's login e-mail address (required)")
    p.set_defaults(func=_enable_staff)

    p = sub.add_parser("set-role", help="change a staff account's role", formatter_class=formatter)
    p.add_argument("--email", required=True, help="the account's login e-mail address (required)")
    p.add_argument("--role", required=True, choices=["nurse", "admin"], help="the new role (required)")
    p.set_defaults(func=_set_role)

    p = sub.add_parser(
        "reset-password",
        help="end an account's password and sessions now; print a one-time set-password link",
        formatter_class=formatter,
    )
    p.add_argument("--email", required=True, help="the account's login e-mail address (required)")
    p.set_defaults(func=_reset_password)

    from api import checkins_cli  # enroll, checkins run-due

    checkins_cli.register(sub)
