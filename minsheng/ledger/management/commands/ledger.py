"""`minsheng ledger …`: operate and check the evidence ledger.

verify            recompute the whole tree, check every checkpoint and record; non-zero on failure
verify-receipt    check an evidence receipt offline (same code as the standalone verify_receipt.py)
checkpoint        sign a checkpoint now (when the tree has grown, or --force)
keygen            print a new signing key (or a witness key with --witness)
witness-add       register a witness's public key
witness           run as a witness: check consistency and co-sign the newest checkpoint
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
        r.add_argument("--key")
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
        w.add_argument("--url", required=True, help="base URL of the platform, e.g. https://minsheng.example")
        w.add_argument("--key", required=True, type=Path, help="file with the witness private key")
        w.add_argument("--state", required=True, type=Path, help="file keeping the last checkpoint seen")
        w.add_argument("--name", required=True, help="the witness name (must match the key)")
        w.add_argument("--log-key", help="the log's public key (default: fetched from /ledger/v1/keys)")

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
        if opts["key"]:
            argv += ["--key", opts["key"]]
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
            if opts["log_key"]:
                log_key = note.parse_verifier(opts["log_key"])
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
