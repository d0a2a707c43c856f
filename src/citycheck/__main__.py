"""The ``citycheck`` console command: Django's management commands under one name."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "citycheck"
    try:
        execute_from_command_line(argv)
    except DatabaseError:
        if not _unapplied_migrations():
            raise
        # A command run before the database was set up: say so, not a traceback.
        sys.stderr.write(
            "citycheck: the database is not set up (migrations not applied). "
            "Run `citycheck migrate`, or `make run`, which also loads the demo.\n"
        )
        sys.exit(1)


def _unapplied_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    connection.close()  # the failed command may have left a broken transaction
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


if __name__ == "__main__":
    main()
