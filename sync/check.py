"""`touchlog check`'s Salesforce line: the session works, both objects can be read, and the
external id field is there on each (two describe calls and one tiny query per object)."""

from __future__ import annotations

from core.errors import TouchlogError
from core.settings import Settings
from sync.client import Client, connect


def check_salesforce(settings: Settings) -> tuple[bool, str]:
    sf = settings.salesforce
    if not sf.enabled:
        return True, "sync is off (salesforce.enabled = false)"
    try:
        client = connect(settings)
        problems = [p for obj in (sf.touchpoints_object, sf.tasks_object)
                    if (p := _object_problem(client, obj, sf.external_id_field))]
    except TouchlogError as exc:
        return False, str(exc)
    if problems:
        return False, "; ".join(problems)
    return True, (f"{client.host}: session ok; {sf.touchpoints_object} and {sf.tasks_object} "
                  f"readable, {sf.external_id_field} is an External ID on both")


def _object_problem(client: Client, sobject: str, field: str) -> str:
    described = client.describe(sobject)
    if not described.get("queryable", False):
        return f"{sobject} cannot be read by this user"
    fields = {f["name"]: f for f in described.get("fields", ())}
    if field not in fields:
        return (f"{sobject} has no field {field}: create it as a Text External ID field "
                "(see the README)")
    if not fields[field].get("externalId"):
        return f"{sobject}.{field} is not marked External ID"
    list(client.records(f"SELECT Id FROM {sobject} LIMIT 1"))
    return ""
