"""Uses a client generated from custody's OpenAPI document (openapi-python-client) as a script
would: opens an incident at one of the demo's suppliers, adds a timeline entry, reads the timeline
and the report, and is told, in the API's one error shape, what is wrong with a bad request.

Run by scripts/api-contract with the generated package `custody_client` on PYTHONPATH:
    python3 scripts/api_client_check.py BASE_URL TOKEN
Exits non-zero, saying what failed, when the client or the API does not do what the document says.
"""

import datetime
import sys

from custody_client import AuthenticatedClient
from custody_client.api.default import (
    add_timeline_entry,
    get_incident,
    get_report,
    list_incidents,
    list_suppliers,
    list_timeline,
    open_incident,
)
from custody_client.models import (
    AddTimelineEntryBody,
    EntryKinds,
    Error,
    Natures,
    OpenIncidentBody,
    ReportFormats,
)


def check(condition, what):
    if not condition:
        sys.exit(f"api_client_check: {what}")


def main(base, token):
    client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)

    suppliers = list_suppliers.sync(client=client)
    check(not isinstance(suppliers, Error), f"listing suppliers failed: {suppliers}")
    names = [supplier["name"] for supplier in suppliers.to_dict()["suppliers"]]
    check(names, "the demo has suppliers")

    aware = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    opened = open_incident.sync(
        client=client,
        body=OpenIncidentBody(
            supplier=names[0],
            aware_at=aware,
            summary="Credentials of a support account were phished (generated client check).",
            nature=[Natures.CONFIDENTIALITY],
        ),
    )
    check(not isinstance(opened, Error), f"opening the incident failed: {opened}")
    # The document describes the incident's id and links: the client has them as attributes.
    incident = opened.incident
    check(isinstance(incident, int) and incident > 0, f"the incident's id: {incident!r}")
    check(
        opened.links.timeline == f"/api/v1/incidents/{incident}/timeline",
        f"the created incident links its timeline: {opened.links}",
    )
    check("clocks" in opened.to_dict(), "the created incident comes with its clocks")

    entry_text = "Asked the supplier for its log of the support account's sessions."
    added = add_timeline_entry.sync(
        incident, client=client, body=AddTimelineEntryBody(kind=EntryKinds.NOTE, text=entry_text)
    )
    check(not isinstance(added, Error), f"adding the timeline entry failed: {added}")
    check(added.incident == incident, f"the entry is on incident {incident}: {added}")
    check(isinstance(added.event, int), f"the entry's event id: {added}")

    timeline = list_timeline.sync(incident, client=client, limit=500)
    check(not isinstance(timeline, Error), f"reading the timeline failed: {timeline}")
    summaries = [entry["summary"] for entry in timeline.to_dict()["timeline"]]
    check(any(entry_text in summary for summary in summaries), f"the entry is on the timeline: {summaries}")

    report = get_report.sync(incident, client=client, format_=ReportFormats.JSON)
    check(not isinstance(report, Error), f"reading the report failed: {report}")
    check(len(report.additional_properties) > 0, "the report has content")
    check(
        "phished" in str(report.additional_properties),
        "the report gives the incident's summary",
    )

    first = list_incidents.sync(client=client, limit=1).to_dict()
    check(first["incidents"][0]["incident"] == incident, "the newest incident is first")
    check(first["next"] is not None, "a page of one, with more to come, has a cursor")
    second = list_incidents.sync(client=client, limit=1, cursor=first["next"]).to_dict()
    check(second["incidents"][0]["incident"] < incident, "the next page goes on from the cursor")

    missing = get_incident.sync(999_999_999, client=client)
    check(isinstance(missing, Error), f"an incident that does not exist is an Error: {missing}")
    check(missing.error.code == "not_found", f"its code: {missing.error.code}")
    print(f"api_client_check: opened incident {incident}, added a timeline entry, read its report")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
