"""`minsheng ledger …`: operate and check the evidence ledger.

verify            recompute the whole tree, check every checkpoint and record; non-zero on failure
verify-receipt    check an evidence receipt offline (same code as the standalone verify_receipt.py)
checkpoint        sign a checkpoint now (when the tree has grown, or --force)
keygen            print a new signing key (or a witness key with --witness)
witness-add       register a witness's public key
witness           run as a witness: pull the newest checkpoint, check consistency, co-sign it;
                  with --serve PORT: a C2SP tlog-witness server (POST /add-checkpoint)
witness-push      push the newest checkpoint to the tlog-witnesses (MINSHENG_LEDGER_WITNESSES)
rotate-key        retire the signing key in favour of a new one (see docs/operations)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from minsheng.core.errors import MinshengError


class Command(BaseCommand):
    help = "Evidence ledger: verify, verify-receipt, checkpoint, keygen, witness-add, witness."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help="full verification; exits 1 when anything was altered")
        v.add_argument("--no-records", action="store_true", help="skip re-digesting referenced records")
        v.add_argument("--json", action="store_true", help="print the report as JSON")
        r = sub.add_parser("verify-receipt", help="verify an evidence receipt offline")
        r.add_argument("file", type=Path)
        r.add_argument("--file", dest="original", type=Path)
        r.add_argument("--key", action="append", help="a published log key (repeat after key rotations)")
        c = sub.add_parser("checkpoint", help="sign a checkpoint of the current tree")
        c.add_argument("--force", action="store_true")
        k = sub.add_parser("keygen", help="print a new signed-note key pair")
        k.add_argument("--name", default=None, help="key name (default: LEDGER_ORIGIN)")
        k.add_argument("--alg", choices=["ed25519", "sm2"], default="ed25519")
        k.add_argument("--witness", action="store_true", help="a witness (cosignature/v1) key")
        a = sub.add_parser("witness-add", help="register a witness public key")
        a.add_argument("name")
        a.add_argument("vkey")
        a.add_argument("--description", default="")
        w = sub.add_parser("witness", help="co-sign the newest checkpoint after checking consistency")
        w.add_argument("--url", help="base URL of the platform, e.g. https://minsheng.example (pull mode)")
        w.add_argument("--key", required=True, type=Path, help="file with the witness private key")
        w.add_argument("--state", required=True, type=Path, help="file keeping the last checkpoint seen")
        w.add_argument("--name", required=True, help="the witness name (must match the key)")
        w.add_argument(
            "--log-key",
            action="append",
            help="a public key of the log (repeat for rotated keys; pull mode default: fetched from the log)",
        )
        w.add_argument("--serve", type=int, metavar="PORT", help="run a tlog-witness server on PORT (0: any)")
        w.add_argument("--host", default="127.0.0.1", help="--serve: address to listen on")
        w.add_argument("--hash", choices=["sha256", "sm3"], default="sha256", help="--serve: the log's tree hash")
        p = sub.add_parser("witness-push", help="push the newest checkpoint to the configured tlog-witnesses")
        p.add_argument("--url", action="append", help="an add-checkpoint URL (default: MINSHENG_LEDGER_WITNESSES)")
        rk = sub.add_parser("rotate-key", help="retire the signing key in favour of a new one")
        src = rk.add_mutually_exclusive_group(required=True)
        src.add_argument("--key-file", type=Path, help="file with the new signed-note private key")
        src.add_argument("--key-env", help="name of an environment variable holding the new private key")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, "do_" + opts["action"].replace("-", "_"))(opts)
        except MinshengError as exc:
            raise CommandError(str(exc.message)) from None

    def do_verify(self, opts: dict[str, Any]) -> None:
        from minsheng.ledger import verification

        report = verification.verify(records=not opts["no_records"])
        if opts["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": report.ok,
                        "size": report.size,
                        "problems": report.problems,
                        "consequences": report.consequences,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            self.stdout.write(
                f"log {report.origin}: {report.size} entries, {report.leaves} leaves read, "
                f"{report.checkpoints} checkpoints, {report.records_checked} records re-digested"
                f" ({report.records_unregistered} of unregistered types)"
            )
            for p in report.problems:
                self.stdout.write(f"ALTERED: {p['message']}")
            for c in report.consequences:
                self.stdout.write(f"  consequence: {c['message']}")
            self.stdout.write("OK" if report.ok else f"FAILED: {len(report.problems)} problem(s)")
        if not report.ok:
            sys.exit(1)

    def do_verify_receipt(self, opts: dict[str, Any]) -> None:
        from minsheng.ledger import verify_receipt

        argv = [str(opts["file"])]
        if opts["original"]:
            argv += ["--file", str(opts["original"])]
        for key in opts["key"] or []:
            argv += ["--key", key]
        code = verify_receipt.main(argv, out=self.stdout)
        if code:
            sys.exit(code)

    def do_checkpoint(self, opts: dict[str, Any]) -> None:
        from minsheng.ledger import services

        cp = services.checkpoint_create(force=opts["force"])
        self.stdout.write(cp.note if cp else "tree has not grown since the last checkpoint")

    def do_keygen(self, opts: dict[str, Any]) -> None:
        from minsheng.ledger import note

        signer = note.generate(opts["name"] or settings.LEDGER_ORIGIN, opts["alg"], cosigner=opts["witness"])
        self.stdout.write(f"private key (keep secret; LEDGER_SIGNING_KEY or a file): {signer.skey}")
        self.stdout.write(f"public key (publish): {signer.verifier.vkey}")

    def do_witness_add(self, opts: dict[str, Any]) -> None:
        from minsheng.ledger import services

        w = services.witness_register(name=opts["name"], vkey=opts["vkey"], description=opts["description"])
        self.stdout.write(f"witness {w.name} registered")

    def do_witness(self, opts: dict[str, Any]) -> None:
        from minsheng.ledger import note, witness

        try:
            signer = note.parse_signer(opts["key"].read_text(encoding="utf-8"))
            if signer.name != opts["name"]:
                raise CommandError("the key's name differs from --name")
            if opts["serve"] is not None:
                self._serve_witness(opts, signer)
                return
            if not opts["url"]:
                raise CommandError("give --url (pull mode) or --serve PORT")
            if opts["log_key"]:
                log_key = [note.parse_verifier(text) for text in opts["log_key"]]  # every published key
            else:
                status, raw = witness.http_fetch("GET", opts["url"].rstrip("/") + "/ledger/v1/keys", None)
                if status != 200:
                    raise CommandError(f"could not fetch the log key (HTTP {status})")
                log_key = note.parse_verifier(json.loads(raw)["log"]["vkey"])
                self.stderr.write("warning: log key fetched from the log itself; pin it with --log-key")
            result = witness.run(
                base_url=opts["url"], witness=signer, log_key=log_key, state_path=opts["state"]
            )
        except (OSError, note.NoteError, witness.WitnessError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"co-signed {result['origin']} at size {result['size']}"
            + (f" (consistent with {result['previous']})" if result["previous"] else "")
        )

    def _serve_witness(self, opts: dict[str, Any], signer: Any) -> None:
        from minsheng.ledger import note, witness

        if not opts["log_key"]:
            raise CommandError("--serve needs the log's public key(s): --log-key")
        logs: dict[str, list[note.Verifier]] = {}
        for text in opts["log_key"]:
            key = note.parse_verifier(text)
            logs.setdefault(key.name, []).append(key)
        service = witness.WitnessService(
            witness=signer,
            logs=logs,
            state_path=opts["state"],
            hashes=dict.fromkeys(logs, opts["hash"]),
        )

        def ready(port: int) -> None:
            self.stdout.write(f"witness {signer.name} listening on http://{opts['host']}:{port}/add-checkpoint")
            self.stdout.flush()

        try:
            witness.serve(service, opts["host"], opts["serve"], ready=ready)
        except KeyboardInterrupt:
            pass

    def do_witness_push(self, opts: dict[str, Any]) -> None:
        from minsheng.ledger import services

        results = services.witness_push(urls=opts["url"] or None)
        if not results:
            self.stdout.write("no checkpoint or no witness configured (MINSHENG_LEDGER_WITNESSES)")
        failed = False
        for url, outcome in results.items():
            if isinstance(outcome, list):
                self.stdout.write(f"{url}: co-signed by {', '.join(outcome) or 'nobody'}")
            else:
                failed = True
                self.stdout.write(f"{url}: FAILED: {outcome}")
        if failed:
            sys.exit(1)

    def do_rotate_key(self, opts: dict[str, Any]) -> None:
        import os

        from minsheng.ledger import note, services

        try:
            if opts["key_file"]:
                text = opts["key_file"].read_text(encoding="utf-8")
            else:
                text = os.environ.get(opts["key_env"], "")
            new = note.parse_signer(text)
        except (OSError, note.NoteError) as exc:
            raise CommandError(f"cannot read the new key: {exc}") from None
        row = services.key_rotate(new=new)
        self.stdout.write(f"new log key {row.vkey} valid from {row.valid_from.isoformat()}")
        self.stdout.write(
            "now set LEDGER_SIGNING_KEY (or LEDGER_SIGNING_KEY_FILE) to the new private key, LEDGER_PUBLIC_KEY "
            "(if pinned) to the new public key, and restart; the old key signs nothing more."
        )
