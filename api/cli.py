"""`aftercare serve`, `aftercare patient-token` and `aftercare create-staff`."""
from __future__ import annotations

import argparse
import sys


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from api.main import create_app
    from api.settings import get_settings

    settings = get_settings()
    if not settings.model_path.exists():
        print(f"warning: no model at {settings.model_path}; run `aftercare train` (serving fail-safe replies)",
              file=sys.stderr)
    print(f"serving on http://{args.host}:{args.port}: API docs /docs, demo portal /demo/portal, staff console /staff/",
          file=sys.stderr)
    # log_config=None keeps our JSON logging; uvicorn's access log would print raw URLs.
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_config=None, access_log=False)


def _patient_token(args: argparse.Namespace) -> None:
    from api.identity import mint_patient_token
    from api.settings import get_settings

    print(mint_patient_token(args.patient_id, get_settings(), lifetime_seconds=args.minutes * 60))


def _create_staff(args: argparse.Namespace) -> None:
    from api.staff.accounts import create_staff_from_cli

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if not password:
        sys.exit("error: give the password on standard input with --password-stdin")
    create_staff_from_cli(email=args.email, name=args.name, role=args.role, password=password)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the API, widget and staff console")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_serve)

    p = sub.add_parser("patient-token", help="print a development patient token (local dev key)")
    p.add_argument("patient_id")
    p.add_argument("--minutes", type=int, default=15, choices=range(1, 16), metavar="1-15")
    p.set_defaults(func=_patient_token)

    p = sub.add_parser("create-staff", help="create a staff account")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=["nurse", "admin"])
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=_create_staff)

    def _disable_staff(args: argparse.Namespace) -> None:
        from api.staff.accounts import disable_staff_from_cli

        disable_staff_from_cli(email=args.email)

    p = sub.add_parser("disable-staff", help="disable a staff account and end its sessions at once")
    p.add_argument("--email", required=True)
    p.set_defaults(func=_disable_staff)
