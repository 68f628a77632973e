"""`minsheng export …`: write published open data to a file.

ocds      a release package of every published OCDS release (streamed: memory stays flat in its size)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Export open data: ocds (an OCDS 1.1 release package of every release)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        o = sub.add_parser("ocds", help="an OCDS 1.1 release package of every published release")
        o.add_argument("--out", required=True, help="file to write ('-' for standard output)")
        o.add_argument("--uri", default="", help="the package's uri (default: file:// of --out)")
        o.add_argument("--publish", action="store_true", help="publish every changed process first")
        o.add_argument("--chunk-size", type=int, default=500)

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, "do_" + opts["what"])(opts)

    def do_ocds(self, opts: dict[str, Any]) -> None:
        from minsheng.procurement.ocds import packages, publisher

        if opts["publish"]:
            written = publisher.publish_all()
            self.stderr.write(f"published {written} new releases")
        target = opts["out"]
        if target == "-":
            count = packages.stream_release_package(sys.stdout, uri=opts["uri"] or "urn:minsheng:ocds:export",
                                                    chunk_size=opts["chunk_size"])
        else:
            path = Path(target)
            if not path.parent.is_dir():
                raise CommandError(f"directory does not exist: {path.parent}")
            uri = opts["uri"] or path.resolve().as_uri()
            tmp = path.with_name(path.name + ".part")
            with tmp.open("w", encoding="utf-8") as out:
                count = packages.stream_release_package(out, uri=uri, chunk_size=opts["chunk_size"])
            tmp.replace(path)  # readers never see a half-written file
        self.stderr.write(f"{count} releases written to {target}")
