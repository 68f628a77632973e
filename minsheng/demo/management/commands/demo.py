"""`minsheng demo`: migrate, generate the demo city 青溪市 if the database has none, print the demo
logins, then serve (unless --no-serve).

--reset starts from scratch. The audit trail is append-only down to a database trigger, so the
demo cannot be "wiped" row by row: on SQLite the database file itself is deleted and re-created;
on PostgreSQL --reset is refused unless the database is still empty (drop and create the database
with `dropdb`/`createdb`, then run `minsheng demo` again).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from minsheng.accounts.roles import Role
from minsheng.core.models import Department, Division
from minsheng.demo import city


class Command(BaseCommand):
    help = "Generate the demo city (青溪市) on this database, print the demo logins and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Throw away the demo database and generate it again (SQLite only).",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Generate and print the logins, then exit."
        )
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--requests", type=int, default=None,
            help="How many citizen requests (a year of them) to generate (default 50000 for the default "
            "city, proportionally fewer for a smaller one; 0 for none).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=city.DEFAULT_SEED,
            help=f"Random seed of the generated city (default {city.DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--projects",
            type=int,
            default=city.DEFAULT_PROJECTS,
            help=f"How many projects to generate (default {city.DEFAULT_PROJECTS}).",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["reset"]:
            self._reset()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)  # the shared cache without Redis (settings.CACHES)
        if city.has_demo_city():
            self.stdout.write("演示城市已存在（使用 --reset 重新生成）。The demo city already exists.")
        elif Division.objects.exists():
            raise CommandError(
                "This database already holds other divisions; the demo city is generated only into an empty "
                "database. Point MINSHENG_DATA_DIR (or DATABASE_URL) at a fresh one."
            )
        else:
            self.stdout.write(f"Generating the demo city from seed {opts['seed']} …")
            result = city.generate(seed=opts["seed"], projects=opts["projects"])
            counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
            self.stdout.write(self.style.SUCCESS(f"Generated in {result.seconds:.1f} s: {counts}"))
            wanted = opts["requests"]
            if wanted is None:
                wanted = round(50_000 * opts["projects"] / city.DEFAULT_PROJECTS)
            if wanted:
                from minsheng.feedback.demo import generate_requests

                made = generate_requests(seed=opts["seed"], count=wanted, as_of=result.as_of)
                self.stdout.write(self.style.SUCCESS(
                    f"Citizen requests: {made.count} in {made.seconds:.1f} s"))
            from minsheng.construction.demo import generate_supervision

            site = generate_supervision(as_of=result.as_of, seed=opts["seed"])
            self.stdout.write(self.style.SUCCESS(
                f"Supervision and sensors: {site.inspections} inspections, {site.devices} devices, "
                f"{site.readings} readings"))
            from minsheng.demo.money import generate_money

            for line in generate_money(as_of=result.as_of, seed=opts["seed"]):
                self.stdout.write(self.style.SUCCESS(line))
            from minsheng.ledger.demo import anchor_history

            anchored = anchor_history()
            self.stdout.write(self.style.SUCCESS(f"Evidence ledger: {anchored} entries anchored, checkpoint signed"))
        self._print_logins()
        if not opts["no_serve"]:
            call_command("serve", host="127.0.0.1", port=opts["port"])

    def _reset(self) -> None:
        if connection.vendor == "sqlite":
            name = Path(str(settings.DATABASES["default"]["NAME"]))
            connections.close_all()
            for path in (name, name.with_name(name.name + "-wal"), name.with_name(name.name + "-shm")):
                path.unlink(missing_ok=True)
            # The documents belong to the database that was just deleted.
            shutil.rmtree(Path(settings.MEDIA_ROOT) / "projects", ignore_errors=True)
            self.stdout.write(f"Deleted {name}.")
            return
        call_command("migrate", interactive=False, verbosity=0)
        if Division.objects.exists():
            raise CommandError(
                "--reset on PostgreSQL: the audit trail is append-only (a database trigger refuses DELETE "
                "and TRUNCATE), so the demo data cannot be removed in place. Drop and re-create the database "
                "(e.g. `dropdb minsheng && createdb minsheng`), then run `minsheng demo` again."
            )

    def _print_logins(self) -> None:
        from minsheng.accounts.models import User

        users = {
            u.username: u
            for u in User.objects.select_related("division", "department").filter(
                username__in=[a.username for a in city.DEMO_ACCOUNTS]
            )
        }
        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING(
                f"Demo logins (password for every account: {city.DEMO_PASSWORD})  →  /console/"
            )
        )
        for a in city.DEMO_ACCOUNTS:
            user = users.get(a.username)
            if user is None:
                continue
            place = (
                user.department.name
                if user.department_id
                else (user.division.name if user.division_id else user.organisation)
            )
            role = Role(user.role).label
            self.stdout.write(f"  {a.username:<11} {role:<8} {place:<18} {a.try_this}")
        self.stdout.write("")
        self.stdout.write("Essay cases (project codes):")
        from minsheng.projects.models import Project

        names = dict(Project.objects.filter(code__in=city.CASES.values()).values_list("code", "name"))
        for key, code in city.CASES.items():
            self.stdout.write(f"  {key:<9} {code}  {names.get(code, '')}")
        departments = Department.objects.filter(division__code=city.CITY_CODE).count()
        self.stdout.write(
            f"City departments: {departments}. Other staff log in with the same password "
            f"(e.g. qxq_civil, dl_water, city_transport)."
        )
