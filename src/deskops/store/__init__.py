"""The system of record: tables, migrations, repositories scoped to one workspace."""
