# The credential moves from fixed columns (secret, base_url, organization, project, endpoint_url,
# runtime_path) to what each adapter declares: public values in `config`, secret parts together
# in one encrypted `secrets` object. Nothing is lost: every non-empty column is carried over, and
# the migration runs backwards too.

from django.db import migrations, models

import koda.crypto

PUBLIC_COLUMNS = ("base_url", "organization", "project", "endpoint_url", "runtime_path")


def columns_to_config(apps, schema_editor):
    Connection = apps.get_model("connections", "Connection")
    for connection in Connection.objects.all():
        connection.config = {
            name: getattr(connection, name) for name in PUBLIC_COLUMNS if getattr(connection, name)
        }
        connection.secrets = {"api_key": connection.secret} if connection.secret else None
        connection.save(update_fields=["config", "secrets"])


def config_to_columns(apps, schema_editor):
    Connection = apps.get_model("connections", "Connection")
    for connection in Connection.objects.all():
        for name in PUBLIC_COLUMNS:
            setattr(connection, name, (connection.config or {}).get(name, ""))
        connection.secret = (connection.secrets or {}).get("api_key") or None
        connection.save(update_fields=[*PUBLIC_COLUMNS, "secret"])


class Migration(migrations.Migration):
    dependencies = [("connections", "0004_snapshot_time_index")]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="config",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="connection",
            name="secrets",
            field=koda.crypto.EncryptedSecretsField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="connection",
            name="details",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(columns_to_config, config_to_columns),
        migrations.RemoveField(model_name="connection", name="secret"),
        *[migrations.RemoveField(model_name="connection", name=name) for name in PUBLIC_COLUMNS],
        migrations.AlterField(
            model_name="healthsnapshot",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("wizard", "Provider page"),
                    ("operations", "Operations"),
                    ("dashboard", "Dashboard"),
                    ("api", "API"),
                    ("command", "Command"),
                    ("sweep", "Health sweep"),
                    ("admin", "Admin"),
                    ("system", "System"),
                ],
                max_length=16,
            ),
        ),
    ]
