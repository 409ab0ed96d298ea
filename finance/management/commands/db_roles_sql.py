from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from finance.db_roles import role_setup_sql


class Command(BaseCommand):
    help = (
        "Print the PostgreSQL statements that set up the owner role (runs migrate, owns the tables) "
        "and the application role (cannot truncate, disable or drop the ledger's triggers). "
        "Run them with psql as a superuser; the 'after migrate' part again after each migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", default="insurance_admin_owner", help="role that runs migrate and owns the tables")
        parser.add_argument("--app", default="insurance_admin_app", help="role of gunicorn, the Celery worker and beat")
        parser.add_argument("--after-migrate", action="store_true", help="only the part to re-run after a migrate")

    def handle(self, *args, owner, app, after_migrate, **options):
        if connection.vendor != "postgresql":
            raise CommandError("db_roles_sql is for PostgreSQL (DATABASE_URL=postgres://…)")
        try:
            parts = role_setup_sql(connection, owner=owner, app=app)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not after_migrate:
            self.stdout.write("-- once, as a superuser; then set passwords: \\password <role>")
            self.stdout.write("\n".join(f"{sql};" for sql in parts["once"]))
        self.stdout.write("-- after every migrate, as a superuser")
        self.stdout.write("\n".join(f"{sql};" for sql in parts["after_migrate"]))
