"""`minsheng open311 create-key NAME`: issue an Open311 api_key (shown once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from minsheng.core.errors import ValidationFailed
from minsheng.feedback import services


class Command(BaseCommand):
    help = "Open311 GeoReport v2: manage client api_keys."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-key", help="issue a new api_key")
        create.add_argument("name")

    def handle(self, *args, **options) -> None:
        if options["action"] == "create-key":
            try:
                key, raw = services.open311_key_create(name=options["name"])
            except ValidationFailed as exc:
                raise CommandError(str(exc.fields)) from None
            self.stdout.write(f"{key.name}: {raw}\n")
            self.stderr.write("The key is shown only once; store it in the client system.\n")
