//! The API's OpenAPI 3 description, made from the route table so that it lists every API
//! route and no other.

use axum::Json;
use serde_json::{Map, Value, json};

use crate::routes::{Surface, route_table};

/// What one API operation does, its parameters and its body.
struct Operation {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    query: &'static [(&'static str, &'static str)],
    body: Option<Value>,
}

fn string() -> Value {
    json!({ "type": "string" })
}

/// The bodies of the rights desk's routes: logging a request, a backlog, an action.
fn request_bodies() -> (Value, Value, Value) {
    let kinds = [
        "access",
        "erasure",
        "rectification",
        "objection",
        "restriction",
        "portability",
    ];
    let log = json!({
        "type": "object", "required": ["kind", "received_at"],
        "properties": {
            "person": { "type": "string", "description": "the person's reference; or give email" },
            "email": { "type": "string", "description": "the requester's address (matched by its keyed hash, kept sealed)" },
            "kind": { "type": "string", "enum": kinds },
            "received_at": { "type": "string", "description": "RFC 3339, or local time in the organisation's zone" },
            "channel": { "type": "string", "enum": ["email", "post", "web", "phone"] },
            "name": { "type": "string", "description": "the requester's name as the request gives it" },
            "postcode": { "type": "string", "description": "with name: offers the people the request probably came from" },
            "born": { "type": "string", "format": "date", "description": "with name: offers the people the request probably came from" }
        }
    });
    let upload = json!({
        "type": "object", "required": ["csv"],
        "properties": { "file_name": string(), "csv": { "type": "string", "description": "received, sender or ref, kind[, channel]" } }
    });
    let grounds: Vec<&str> = custody_app::rights::request_decide::GROUNDS
        .iter()
        .map(|(name, _, _)| *name)
        .collect();
    let act = json!({
        "type": "object", "required": ["action"],
        "properties": {
            "action": { "type": "string", "enum": ["identify", "pause", "resume", "extend", "decide", "confirm", "close"] },
            "person": { "type": "string", "description": "identify" },
            "identity_confirmed_at": { "type": "string", "description": "identify" },
            "at": { "type": "string", "description": "pause, resume, confirm" },
            "reason": { "type": "string", "description": "pause: clarification, fee or identity; extend, decide, close: why" },
            "note": { "type": "string", "description": "pause, resume" },
            "months": { "type": "string", "enum": ["1", "2"], "description": "extend" },
            "decision": { "type": "string", "enum": ["erase", "partial", "refuse"], "description": "decide" },
            "ground": { "type": "string", "enum": grounds, "description": "decide: Art. 17(3), or for a refusal Art. 17(1)/12(5)" },
            "basis": { "type": "string", "enum": ["no-longer-necessary", "consent-withdrawn", "objection", "unlawful", "legal-obligation", "child"] },
            "keep_supplier": { "type": "string", "description": "decide (partial): suppliers kept, comma-separated" },
            "supplier": { "type": "string", "description": "confirm" },
            "backups_until": { "type": "string", "description": "confirm (erasure)" },
            "outcome": { "type": "string", "enum": ["done", "refused", "withdrawn"], "description": "close" }
        }
    });
    (log, upload, act)
}

fn operations() -> Vec<Operation> {
    let entry = json!({
        "type": "object", "required": ["kind", "text"], "additionalProperties": false,
        "properties": {
            "kind": { "type": "string", "enum": ["note", "decision", "contact", "update"] },
            "text": string(), "reason": string(),
            "with": { "type": "string", "enum": custody_app::breach::incidents::CONTACT_PARTIES },
            "at": { "type": "string", "description": "RFC 3339, or local time in the organisation's zone; now when left out" }
        }
    });
    let obligation = json!({
        "type": "object", "required": ["obligation"], "additionalProperties": false,
        "properties": {
            "obligation": { "type": "string", "description": "JURISDICTION:obligation as the incident lists it (IE:gdpr-regulator)" },
            "at": { "type": "string", "description": "RFC 3339, or local time in the organisation's zone; now when left out" },
            "reference": string(),
            "delay_reason": { "type": "string", "description": "required for a regulator told after its deadline (GDPR Art. 33(1))" }
        }
    });
    let act = json!({
        "type": "object", "required": ["act"], "additionalProperties": false,
        "properties": {
            "act": { "type": "string", "enum": ["regulator_notified", "regulator_updated", "people_notified"] },
            "at": string(), "reference": string(),
            "delay_reason": { "type": "string", "description": "required for a report to the regulator after 72 hours (Art. 33(1))" }
        }
    });
    let supplier = json!({
        "type": "object", "required": ["name"], "additionalProperties": false,
        "properties": {
            "name": string(), "role": { "type": "string", "enum": ["processor", "sub-processor"] },
            "parent": string(), "notice_hours": { "type": "integer", "minimum": 0 },
            "contract": string(), "contact": string()
        }
    });
    let email = json!({
        "type": "object", "required": ["email"], "additionalProperties": false,
        "properties": { "email": string() }
    });
    let open = json!({
        "type": "object", "required": ["supplier", "aware_at", "summary", "nature"], "additionalProperties": false,
        "properties": {
            "supplier": string(), "aware_at": string(), "summary": string(),
            "nature": { "type": "array", "items": { "type": "string", "enum": ["confidentiality", "integrity", "availability"] } },
            "occurred_from": string(), "occurred_to": string(),
            "supplier_discovered_at": string(), "supplier_notified_at": string(),
            "cyber": { "type": "boolean" }
        }
    });
    let statement = json!({
        "type": "object", "required": ["text"], "additionalProperties": false,
        "properties": {
            "text": string(), "received_at": string(),
            "claims_records": { "type": "integer", "minimum": 0 },
            "claims_categories": { "type": "array", "items": string() },
            "claims_exfiltration": { "type": "string", "enum": ["yes", "no", "unknown"] }
        }
    });
    let notify_body = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "audience": { "type": "string", "enum": ["affected", "all-current"] },
            "retry_failed": { "type": "boolean" }
        }
    });
    let confirm_body = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "note": { "type": "string", "maxLength": 200 },
            "backups_until": { "type": "string", "description": "an instant, read in the organisation's time zone when it has no offset" }
        }
    });
    let answer = json!({
        "type": "object", "required": ["text"], "additionalProperties": false,
        "properties": {
            "text": string(),
            "claims_records": { "type": "integer", "minimum": 0 },
            "claims_categories": { "type": "array", "items": string() },
            "claims_exfiltration": { "type": "string", "enum": ["yes", "no", "unknown"] }
        }
    });
    let assess = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "mitigations": { "type": "array", "description": "mitigations to add; those recorded before stay", "items": { "type": "string", "enum": ["encrypted", "recovered", "contained"] } },
            "remove_mitigations": { "type": "array", "items": { "type": "string" } },
            "override_regulator": { "type": "boolean" }, "override_people": { "type": "boolean" },
            "reason": { "type": "string", "description": "required with an override" },
            "key_taken": { "type": "string", "enum": ["yes", "no", "unknown"], "description": "whether the key was taken with encrypted data (`encrypted` counts only when it was not); absent keeps the previous answer" },
            "identification": { "type": "string", "enum": ["negligible", "limited", "significant", "maximum"], "description": "ease of identification (ENISA 2013)" },
            "malicious": { "type": "string", "enum": ["yes", "no", "unknown"], "description": "whether the breach was malicious" }
        }
    });
    let amend = json!({
        "type": "object", "required": ["reason"], "additionalProperties": false,
        "properties": {
            "summary": string(),
            "nature": { "type": "array", "items": { "type": "string", "enum": ["confidentiality", "integrity", "availability"] } },
            "aware_at": string(), "occurred_from": string(), "occurred_to": string(),
            "supplier_discovered_at": string(), "supplier_notified_at": string(),
            "cyber": { "type": "string", "enum": ["yes", "no", "unknown"] },
            "reason": { "type": "string", "description": "what was learned, and from whom" }
        }
    });
    let decision = json!({
        "type": "object", "required": ["decision", "reason"], "additionalProperties": false,
        "properties": {
            "decision": { "type": "string", "enum": ["regulator_not_required", "people_not_required"] },
            "ground": { "type": "string", "enum": ["encrypted", "measures-taken", "disproportionate-effort"], "description": "required for people_not_required (Art. 34(3))" },
            "reason": string()
        }
    });
    let confirm = json!({
        "type": "object", "required": ["event", "reason"], "additionalProperties": false,
        "properties": {
            "event": { "type": "integer", "description": "the evidence event whose probable links these are" },
            "references": { "type": "array", "items": string(), "description": "the people checked; none: every link still waiting" },
            "reason": string()
        }
    });
    let (log_request, upload, request_act) = request_bodies();
    let op = |method, path, summary, query, body| Operation {
        method,
        path,
        summary,
        query,
        body,
    };
    vec![
        op(
            "GET",
            "/api/v1/incidents",
            "Every incident with its clocks, newest first.",
            &[],
            None,
        ),
        op(
            "POST",
            "/api/v1/incidents",
            "Opens an incident at a supplier (responder): its clocks start, its impact is computed and recorded.",
            &[],
            Some(open),
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/statements",
            "Records a supplier statement (responder); a change to an earlier claim is flagged as a correction.",
            &[],
            Some(statement),
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/assess",
            "Assesses the risk from the impact now and the documented rules (responder), with any override and its reason.",
            &[],
            Some(assess),
        ),
        op(
            "GET",
            "/api/v1/incidents/{id}",
            "An incident: facts, clocks, impact (as last recorded), risk, statements, timeline, leak evidence.",
            &[],
            None,
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/timeline",
            "Adds a timeline entry (responder).",
            &[],
            Some(entry),
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/acts",
            "Records that the regulator or the people were notified (responder).",
            &[],
            Some(act),
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/obligations",
            "Records one obligation of the places the affected people live in as met (responder); a regulator's files its report as it stands.",
            &[],
            Some(obligation),
        ),
        op(
            "GET",
            "/api/v1/incidents/{id}/report",
            "The report to the regulator: as it reads now, or exactly as filed.",
            &[
                ("format", "md, html or json (default)"),
                ("phase", "initial (default) or follow-up"),
                (
                    "as_filed",
                    "true: the latest report of the phase exactly as filed, checked against its digests",
                ),
                (
                    "regulator",
                    "another regulator by short name or jurisdiction code (DPC, IE): the report in its structure",
                ),
            ],
            None,
        ),
        op(
            "GET",
            "/api/v1/incidents/{id}/notifications",
            "The incident's notices per state (queued, sending, sent, retry, failed), its letters (needed, printed, posted) and the latest notification run started from this desk (running, progress, outcome or error).",
            &[],
            None,
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/notifications",
            "Starts a notification run (responder): one notice per address to everyone affected (or `all-current`), sent through the configured mail server on the desk's own thread; with `retry_failed`, what failed before is sent again. 202: watch it with GET on the same path. 400 when no mail server is configured or a run from this desk is already sending.",
            &[],
            Some(notify_body),
        ),
        op(
            "GET",
            "/api/v1/supplier",
            "A supplier's token: its own side (its incidents, its shares' metadata, and its instructions; of a person, only the reference of one an open instruction is for).",
            &[],
            None,
        ),
        op(
            "GET",
            "/api/v1/supplier/incidents/{id}",
            "A supplier's token: one of its incidents (or its sub-processors'), the question it is asked and by when, and its statements.",
            &[],
            None,
        ),
        op(
            "POST",
            "/api/v1/supplier/incidents/{id}/answer",
            "A supplier's token: its answer to the question on an incident at its own supplier, recorded as its statement (dated when received).",
            &[],
            Some(answer),
        ),
        op(
            "POST",
            "/api/v1/supplier/requests/{id}/confirm",
            "A supplier's token: confirms it did what request ID instructed it to (erase, correct, restrict, stop marketing), now, with an optional note and, for an erasure, when its backups no longer hold the data; recorded as the request's confirmation with the token as actor.",
            &[],
            Some(confirm_body.clone()),
        ),
        op(
            "POST",
            "/api/v1/supplier/shares/{id}/confirm-deletion",
            "A supplier's token: confirms it deleted share ID, which it was asked to delete, with every copy, now, with an optional note and when its backups no longer hold the data; recorded as the share's deletion with the token as actor.",
            &[],
            Some(confirm_body),
        ),
        op("GET", "/api/v1/suppliers", "Every supplier.", &[], None),
        op(
            "POST",
            "/api/v1/suppliers",
            "Registers a supplier (admin).",
            &[],
            Some(supplier),
        ),
        op(
            "GET",
            "/api/v1/suppliers/{name}",
            "A supplier with its shares.",
            &[],
            None,
        ),
        op(
            "GET",
            "/api/v1/suppliers/{name}/holdings",
            "Who and which data the supplier (with its sub-processors) held at an instant.",
            &[(
                "at",
                "RFC 3339, or local time in the organisation's zone; now when left out",
            )],
            None,
        ),
        op("GET", "/api/v1/shares/{id}", "A share.", &[], None),
        op(
            "GET",
            "/api/v1/people/{ref}",
            "A person by reference and the recipients of their data.",
            &[],
            None,
        ),
        op(
            "POST",
            "/api/v1/people/lookup",
            "A person by email address (matched through its keyed hash) and the recipients of their data.",
            &[],
            Some(email),
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/amend",
            "Amends facts learned since opening (responder), each change kept with its reason; what is derived follows.",
            &[],
            Some(amend),
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/decisions",
            "Records a decision not to notify the regulator or the people, with its reasons (responder).",
            &[],
            Some(decision),
        ),
        op(
            "POST",
            "/api/v1/incidents/{id}/evidence/confirm",
            "Confirms probable links of leak evidence as the same people (responder): they join the evidence, with the reason.",
            &[],
            Some(confirm),
        ),
        op(
            "GET",
            "/api/v1/register",
            "The breach register (Art. 33(5)): every incident, reported or not, with decisions and filed reports.",
            &[],
            None,
        ),
        op(
            "GET",
            "/api/v1/audit",
            "The audit chain's verification, its newest 100 entries and the latest checkpoint taken outside custody.",
            &[],
            None,
        ),
        op(
            "GET",
            "/api/v1/requests",
            "Every request from a person with its legal deadline and clock, overdue first.",
            &[],
            None,
        ),
        op(
            "POST",
            "/api/v1/requests",
            "Logs a request (responder); rectification, restriction and objection instruct the suppliers holding the person, an erasure waits for a decision when erasure_review is on.",
            &[],
            Some(log_request),
        ),
        op(
            "POST",
            "/api/v1/requests/import",
            "Imports a backlog of requests from CSV text (responder): every row, or none.",
            &[],
            Some(upload),
        ),
        op(
            "GET",
            "/api/v1/requests/{id}",
            "One request: deadline, target, pauses, decision, instructions to suppliers, events (the look is audited).",
            &[],
            None,
        ),
        op(
            "POST",
            "/api/v1/requests/{id}/act",
            "Acts on a request (responder): identify, pause, resume, extend, decide, confirm or close.",
            &[],
            Some(request_act),
        ),
        op(
            "GET",
            "/api/v1/requests/{id}/answer",
            "The answer to the requester (responder; producing it is recorded on the request).",
            &[(
                "format",
                "md or json (default); a portability answer is json only",
            )],
            None,
        ),
        op(
            "GET",
            "/api/v1/retention",
            "What each supplier should have deleted by now, in aggregate.",
            &[],
            None,
        ),
    ]
}

fn operation_object(operation: &Operation, role: Option<&str>) -> Value {
    let mut parameters: Vec<Value> = operation
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": string() }))
        .collect();
    parameters.extend(operation.query.iter().map(|(name, description)| {
        json!({ "name": name, "in": "query", "required": false, "description": description, "schema": string() })
    }));
    let ok = if operation.method == "POST" { "201" } else { "200" };
    let mut object = json!({
        "summary": operation.summary,
        "description": format!("Needs a token with the role {} or above.", role.unwrap_or("viewer")),
        "parameters": parameters,
        "responses": {
            ok: { "description": "Done.", "content": { "application/json": { "schema": { "type": "object" } } } },
            "400": { "$ref": "#/components/responses/Error" },
            "401": { "$ref": "#/components/responses/Error" },
            "403": { "$ref": "#/components/responses/Error" },
            "404": { "$ref": "#/components/responses/Error" }
        }
    });
    if let (Some(body), Some(map)) = (&operation.body, object.as_object_mut()) {
        map.insert(
            "requestBody".to_owned(),
            json!({ "required": true, "content": { "application/json": { "schema": body } } }),
        );
    }
    object
}

/// The document.
pub fn spec() -> Value {
    let documented = operations();
    let mut paths: Map<String, Value> = Map::new();
    for route in route_table()
        .into_iter()
        .filter(|route| route.surface == Surface::Api)
    {
        let Some(operation) = documented
            .iter()
            .find(|operation| operation.method == route.method && operation.path == route.path)
        else {
            continue;
        };
        let item = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(
                route.method.to_lowercase(),
                operation_object(operation, route.role),
            );
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "custody",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The ledger of who received whose personal data, and the breach response. Tokens are made with `custody token add --name N --role viewer|responder|admin`."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Error": {
                    "description": "What went wrong, in words.",
                    "content": { "application/json": { "schema": {
                        "type": "object", "required": ["error"], "properties": { "error": string() }
                    } } }
                }
            }
        }
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<Value> {
    Json(spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_is_documented_and_nothing_else() {
        let documented = operations();
        let api: Vec<_> = route_table()
            .into_iter()
            .filter(|route| route.surface == Surface::Api)
            .collect();
        for route in &api {
            assert!(
                documented
                    .iter()
                    .any(|op| op.method == route.method && op.path == route.path),
                "{} {} is not in the OpenAPI document",
                route.method,
                route.path
            );
        }
        assert_eq!(
            documented.len(),
            api.len(),
            "the document describes a route that does not exist"
        );
        let spec = spec();
        assert_eq!(
            spec["paths"]["/api/v1/incidents/{id}/timeline"]["post"]["requestBody"]["required"],
            true
        );
    }
}
