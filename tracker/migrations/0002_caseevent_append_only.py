"""On PostgreSQL, the database itself refuses to change or delete a case event.

SQLite (local runs) relies on the model and queryset guards alone: its test flush deletes rows one by one.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION tracker_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tracker_caseevent_append_only
    BEFORE UPDATE OR DELETE ON tracker_caseevent
    FOR EACH ROW EXECUTE FUNCTION tracker_caseevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS tracker_caseevent_append_only ON tracker_caseevent;
DROP FUNCTION IF EXISTS tracker_caseevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("tracker", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
