//! The API's OpenAPI 3.1 description. Every API route in the route table is described and no
//! other (a test holds the two together); each request body and query is described by the type
//! its handler reads ([`crate::api_bodies`], deriving `utoipa::ToSchema`), so a field, its type,
//! its limits and its words cannot drift from what the server accepts. Every operation lists the
//! statuses it can answer with, each error in the one shape `{"error": {"code", "message",
//! "field"}}`.

use axum::Json;
use serde_json::{Map, Value, json};
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::api_bodies::{
    ActBody, AmendBody, AnswerBody, AssessBody, At, ConfirmBody, DecisionBody, EmailBody, Entry,
    EvidenceConfirmBody, FormatQuery, LogBody, ObligationBody, OpenBody, PageQuery, ReportQuery,
    RequestActBody, RequestsQuery, RunBody, StatementBody, SupplierBody, UploadBody,
};
use crate::routes::{Surface, route_table};

type Schemas = Vec<(String, RefOr<Schema>)>;

/// A request body: its schema and the named schemas it refers to.
struct Body {
    schema: fn() -> RefOr<Schema>,
    schemas: fn(&mut Schemas),
}

fn body<T: ToSchema>() -> Body {
    Body {
        schema: <T as PartialSchema>::schema,
        schemas: <T as ToSchema>::schemas,
    }
}

fn params<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

/// What one API operation does, what it reads and what it answers.
struct Operation {
    id: &'static str,
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    ok: u16,
    body: Option<Body>,
    query: Option<fn() -> Vec<Parameter>>,
    produces: &'static [&'static str],
    links: &'static [(&'static str, &'static str)],
}

/// A GET that answers 200 with JSON.
fn get(id: &'static str, path: &'static str, summary: &'static str) -> Operation {
    Operation {
        id,
        method: "GET",
        path,
        summary,
        ok: 200,
        body: None,
        query: None,
        produces: &["application/json"],
        links: &[],
    }
}

/// A POST of a `T` that answers 201 with JSON.
fn post<T: ToSchema>(id: &'static str, path: &'static str, summary: &'static str) -> Operation {
    Operation {
        method: "POST",
        ok: 201,
        body: Some(body::<T>()),
        ..get(id, path, summary)
    }
}

impl Operation {
    fn answers(self, ok: u16) -> Self {
        Operation { ok, ..self }
    }

    fn reads<T: IntoParams>(self) -> Self {
        Operation {
            query: Some(params::<T>),
            ..self
        }
    }

    fn produces(self, produces: &'static [&'static str]) -> Self {
        Operation { produces, ..self }
    }

    fn links(self, links: &'static [(&'static str, &'static str)]) -> Self {
        Operation { links, ..self }
    }
}

/// From a created incident to what can be done with it (`incident` is its id).
const INCIDENT_LINKS: &[(&str, &str)] = &[
    ("getIncident", "$response.body#/incident"),
    ("listTimeline", "$response.body#/incident"),
    ("addTimelineEntry", "$response.body#/incident"),
    ("addStatement", "$response.body#/incident"),
    ("assessIncident", "$response.body#/incident"),
    ("recordAct", "$response.body#/incident"),
    ("getReport", "$response.body#/incident"),
    ("getNotifications", "$response.body#/incident"),
];

/// From a logged request to it.
const REQUEST_LINKS: &[(&str, &str)] = &[
    ("getRequest", "$response.body#/request"),
    ("actOnRequest", "$response.body#/request"),
];

fn operations() -> Vec<Operation> {
    vec![
        get("listIncidents", "/api/v1/incidents", "Incidents with their clocks, newest first, a page at a time (`next` is the cursor of the next page, null on the last); each has its links.")
            .reads::<PageQuery>(),
        post::<OpenBody>("openIncident", "/api/v1/incidents", "Opens an incident at a supplier (responder): its clocks start, its impact is computed and recorded.")
            .links(INCIDENT_LINKS),
        post::<StatementBody>("addStatement", "/api/v1/incidents/{id}/statements", "Records a supplier statement (responder); a change to an earlier claim is flagged as a correction."),
        post::<AssessBody>("assessIncident", "/api/v1/incidents/{id}/assess", "Assesses the risk from the impact now and the documented rules (responder), with any override and its reason."),
        get("getIncident", "/api/v1/incidents/{id}", "An incident: facts, clocks, impact (as last recorded), risk, statements, timeline, leak evidence."),
        get("listTimeline", "/api/v1/incidents/{id}/timeline", "The incident's timeline as the incident shows it, a page at a time.")
            .reads::<PageQuery>(),
        post::<Entry>("addTimelineEntry", "/api/v1/incidents/{id}/timeline", "Adds a timeline entry (responder)."),
        post::<ActBody>("recordAct", "/api/v1/incidents/{id}/acts", "Records that the regulator or the people were notified (responder)."),
        post::<ObligationBody>("recordObligationMet", "/api/v1/incidents/{id}/obligations", "Records one obligation of the places the affected people live in as met (responder); a regulator's files its report as it stands."),
        get("getReport", "/api/v1/incidents/{id}/report", "The report to the regulator: as it reads now, or exactly as filed.")
            .reads::<ReportQuery>()
            .produces(&["application/json", "text/markdown", "text/html"]),
        get("getNotifications", "/api/v1/incidents/{id}/notifications", "The incident's notices per state (queued, sending, sent, retry, failed), its letters (needed, printed, posted) and the latest notification run started from this desk (running, progress, outcome or error)."),
        post::<RunBody>("startNotifications", "/api/v1/incidents/{id}/notifications", "Starts a notification run (responder): one notice per address to everyone affected (or `all-current`), sent through the configured mail server on the desk's own thread; with `retry_failed`, what failed before is sent again. 202: watch it with GET on the same path. 409 when no mail server is configured or a run from this desk is already sending.")
            .answers(202),
        get("getSupplierSide", "/api/v1/supplier", "A supplier's token: its own side (its incidents, its shares' metadata, and its instructions; of a person, only the reference of one an open instruction is for)."),
        get("getSupplierIncident", "/api/v1/supplier/incidents/{id}", "A supplier's token: one of its incidents (or its sub-processors'), the question it is asked and by when, and its statements."),
        post::<AnswerBody>("answerAsSupplier", "/api/v1/supplier/incidents/{id}/answer", "A supplier's token: its answer to the question on an incident at its own supplier, recorded as its statement (dated when received)."),
        post::<ConfirmBody>("confirmRequestAsSupplier", "/api/v1/supplier/requests/{id}/confirm", "A supplier's token: confirms it did what request ID instructed it to (erase, correct, restrict, stop marketing), now, with an optional note and, for an erasure, when its backups no longer hold the data; recorded as the request's confirmation with the token as actor."),
        post::<ConfirmBody>("confirmDeletionAsSupplier", "/api/v1/supplier/shares/{id}/confirm-deletion", "A supplier's token: confirms it deleted share ID, which it was asked to delete, with every copy, now, with an optional note and when its backups no longer hold the data; recorded as the share's deletion with the token as actor."),
        get("listSuppliers", "/api/v1/suppliers", "Every supplier."),
        post::<SupplierBody>("addSupplier", "/api/v1/suppliers", "Registers a supplier (admin)."),
        get("getSupplier", "/api/v1/suppliers/{name}", "A supplier with its shares."),
        get("getHoldings", "/api/v1/suppliers/{name}/holdings", "Who and which data the supplier (with its sub-processors) held at an instant.")
            .reads::<At>(),
        get("getShare", "/api/v1/shares/{id}", "A share."),
        get("getPerson", "/api/v1/people/{ref}", "A person by reference and the recipients of their data."),
        post::<EmailBody>("lookUpPerson", "/api/v1/people/lookup", "A person by email address (matched through its keyed hash) and the recipients of their data.")
            .answers(200),
        post::<AmendBody>("amendIncident", "/api/v1/incidents/{id}/amend", "Amends facts learned since opening (responder), each change kept with its reason; what is derived follows."),
        post::<DecisionBody>("decideNotToNotify", "/api/v1/incidents/{id}/decisions", "Records a decision not to notify the regulator or the people, with its reasons (responder)."),
        post::<EvidenceConfirmBody>("confirmEvidence", "/api/v1/incidents/{id}/evidence/confirm", "Confirms probable links of leak evidence as the same people (responder): they join the evidence, with the reason."),
        get("getRegister", "/api/v1/register", "The breach register (Art. 33(5)): every incident, reported or not, with decisions and filed reports."),
        get("getAudit", "/api/v1/audit", "The audit chain's verification, its entries newest first a page at a time, and the latest checkpoint taken outside custody.")
            .reads::<PageQuery>(),
        get("listRequests", "/api/v1/requests", "Requests from people with their legal deadlines and clocks, newest first, a page at a time (`overdue=true`: only those past their due day).")
            .reads::<RequestsQuery>(),
        post::<LogBody>("logRequest", "/api/v1/requests", "Logs a request (responder); rectification, restriction and objection instruct the suppliers holding the person, an erasure waits for a decision when erasure_review is on.")
            .links(REQUEST_LINKS),
        post::<UploadBody>("importRequests", "/api/v1/requests/import", "Imports a backlog of requests from CSV text (responder): every row, or none."),
        get("getRequest", "/api/v1/requests/{id}", "One request: deadline, target, pauses, decision, instructions to suppliers, events (the look is audited)."),
        post::<RequestActBody>("actOnRequest", "/api/v1/requests/{id}/act", "Acts on a request (responder): identify, pause, resume, extend, decide, confirm or close."),
        get("getAnswer", "/api/v1/requests/{id}/answer", "The answer to the requester (responder; producing it is recorded on the request).")
            .reads::<FormatQuery>()
            .produces(&["application/json", "text/markdown"]),
        get("getRetention", "/api/v1/retention", "What each supplier should have deleted by now, in aggregate."),
    ]
}

/// The path's parameters: record ids are whole numbers, names and references text.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = match name {
                "id" => json!({ "type": "integer", "format": "int64" }),
                // A person's reference; an email address is looked up in a body, never a path.
                "ref" => json!({ "type": "string", "minLength": 1, "pattern": "^[^@]+$" }),
                _ => json!({ "type": "string", "minLength": 1 }),
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

/// An object with these properties, each required; other properties may follow.
fn object(properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default();
    json!({ "type": "object", "required": required, "properties": properties })
}

fn id() -> Value {
    json!({ "type": "integer", "format": "int64" })
}

fn list() -> Value {
    json!({ "type": "array", "items": { "type": "object" } })
}

/// The `next` of a page: the cursor of the page after, or null on the last.
fn next() -> Value {
    json!({ "type": ["string", "null"], "description": "the cursor of the next page; null on the last" })
}

/// An incident's `links`: where a client goes from it.
fn incident_links() -> Value {
    let links: Map<String, Value> = crate::api::INCIDENT_LINK_PATHS
        .iter()
        .map(|(name, _)| ((*name).to_owned(), json!({ "type": "string" })))
        .collect();
    object(Value::Object(links))
}

/// What a successful answer's JSON holds, where the desk itself makes its shape (lists, pages,
/// what was recorded); the views of the ledger are objects whose fields follow `custody --json`.
fn success_body(operation: &str) -> Value {
    match operation {
        "listIncidents" => object(json!({
            "incidents": { "type": "array", "items": object(json!({ "incident": id(), "links": incident_links() })) },
            "next": next(),
        })),
        "openIncident" | "getIncident" => object(json!({ "incident": id(), "links": incident_links() })),
        "listTimeline" => object(json!({ "incident": id(), "timeline": list(), "next": next() })),
        "addTimelineEntry" => object(json!({ "incident": id(), "event": id() })),
        "recordAct" => object(json!({ "incident": id(), "clocks": list() })),
        "recordObligationMet" => object(json!({ "incident": id(), "obligations": { "type": "object" } })),
        "addStatement" => object(json!({ "incident": id(), "statements": list() })),
        "amendIncident" => object(json!({ "incident": id(), "changes": list() })),
        "decideNotToNotify" => object(json!({ "incident": id() })),
        "confirmEvidence" => object(
            json!({ "incident": id(), "event": id(), "confirmed": { "type": "integer", "description": "how many people joined the evidence" } }),
        ),
        "startNotifications" => object(json!({
            "incident": id(), "started": { "type": "boolean" }, "watch": { "type": "string" },
        })),
        "getNotifications" => object(json!({
            "incident": id(), "counts": { "type": "object" }, "letters": { "type": "object" },
            "run": { "type": ["object", "null"] },
        })),
        "listSuppliers" => object(json!({ "suppliers": list() })),
        "getRegister" => object(json!({ "incidents": list() })),
        "getAudit" => object(json!({
            "verification": { "type": ["object", "null"], "description": "on the first page (no cursor) only" },
            "entries": list(),
            "latest_anchor": { "type": ["object", "null"] },
            "next": next(),
        })),
        "listRequests" => object(json!({ "requests": list(), "next": next() })),
        "logRequest" => object(json!({ "request": id(), "due": { "type": "string", "format": "date" } })),
        "importRequests" => object(json!({
            "recorded": { "type": "integer" }, "matched": { "type": "integer" }, "overdue": { "type": "integer" },
        })),
        "actOnRequest" => {
            object(json!({ "request": id(), "done": { "type": "string" }, "now": { "type": "object" } }))
        }
        "confirmRequestAsSupplier" => object(json!({
            "request": id(), "confirmed": { "type": "boolean" }, "request_complete": { "type": "boolean" },
        })),
        "confirmDeletionAsSupplier" => object(json!({ "share": id(), "deleted": { "type": "boolean" } })),
        _ => json!({ "type": "object" }),
    }
}

/// Every status the operation can answer with.
fn responses(operation: &Operation, limited: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let content: Map<String, Value> = operation
        .produces
        .iter()
        .map(|media| {
            let schema = if *media == "application/json" {
                success_body(operation.id)
            } else {
                json!({ "type": "string" })
            };
            ((*media).to_owned(), json!({ "schema": schema }))
        })
        .collect();
    let mut ok = json!({ "description": "Done.", "content": content });
    if !operation.links.is_empty() {
        let links: Map<String, Value> = operation
            .links
            .iter()
            .map(|(id, from)| {
                (
                    (*id).to_owned(),
                    json!({ "operationId": id, "parameters": { "id": from } }),
                )
            })
            .collect();
        if let Some(map) = ok.as_object_mut() {
            map.insert("links".to_owned(), Value::Object(links));
        }
    }
    out.insert(operation.ok.to_string(), ok);
    let takes_path = operation.path.contains('{');
    let reads = operation.body.is_some() || operation.query.is_some();
    let writes = operation.method == "POST";
    let mut add = |status: &str, description: &str| {
        out.insert(status.to_owned(), error(description));
    };
    if takes_path || reads {
        add(
            "400",
            "A field of the body, path or query does not read as described: missing, unknown, of the wrong type, too long, not one of its words (`malformed_body`, `malformed_path`, `malformed_query`; `field` names it). A rule between fields (`if`/`then`, `oneOf`) is checked by custody's use cases, which answer 409 or 422.",
        );
    }
    add(
        "404",
        "Something named does not exist, or this token has no side here (`not_found`).",
    );
    add("401", "No valid token (`unauthenticated`).");
    add("403", "The token's role may not do this (`forbidden`).");
    if writes || takes_path || reads {
        add(
            "409",
            "custody's rules refuse it given what is recorded: a name taken, a thing done once already, an act dated before the incident was known, a late report without the reasons for the delay, a regulator the rules do not know (`conflict`, `refused`).",
        );
    }
    if operation.body.is_some() {
        add("413", "The body is too large (`too_large`).");
        add(
            "415",
            "The body is not sent as application/json (`unsupported_media_type`).",
        );
    }
    if takes_path || reads {
        add(
            "422",
            "A value in the request cannot be read as what it says it is: a CSV backlog without its columns, a reference that is an address but not a valid one (`invalid_value`, `unreadable_file`).",
        );
    }
    if limited {
        add(
            "429",
            "Too many lookups or downloads from this token; wait as Retry-After says (`rate_limited`).",
        );
    }
    add(
        "500",
        "The server could not answer; its log has the request id (`internal`).",
    );
    add(
        "503",
        "The audit chain is broken: nothing can be written, nor any look that is audited, until someone looks at it (`audit_chain_broken`).",
    );
    if operation.id == "getPerson" {
        add(
            "405",
            "`/api/v1/people/lookup` is the lookup by address, which takes POST (`method_not_allowed`).",
        );
    }
    out
}

fn operation_object(
    operation: &Operation,
    role: Option<&str>,
    limited: bool,
    schemas: &mut Schemas,
) -> Value {
    let mut parameters = path_parameters(operation.path);
    if let Some(query) = operation.query {
        parameters.extend(
            query()
                .iter()
                .filter_map(|parameter| serde_json::to_value(parameter).ok()),
        );
    }
    let mut object = json!({
        "operationId": operation.id,
        "summary": operation.summary,
        "description": format!("Needs a token with the role {} or above.", role.unwrap_or("viewer")),
        "parameters": parameters,
        "responses": responses(operation, limited),
    });
    if let Some(body) = &operation.body {
        (body.schemas)(schemas);
        let schema = with_conditions(
            serde_json::to_value((body.schema)()).unwrap_or(Value::Null),
            operation.id,
        );
        let request_body =
            json!({ "required": true, "content": { "application/json": { "schema": schema } } });
        if let Some(map) = object.as_object_mut() {
            map.insert("requestBody".to_owned(), request_body);
        }
    }
    object
}

/// `then` for `required`: each field present and not null.
fn needs(required: &[&str]) -> Value {
    let properties: Map<String, Value> = required
        .iter()
        .map(|field| ((*field).to_owned(), json!({ "not": { "type": "null" } })))
        .collect();
    json!({ "required": required, "properties": properties })
}

/// When `field` is `value`, `required` must be given.
fn when(field: &str, value: &str, required: &[&str]) -> Value {
    json!({
        "if": { "properties": { field: { "const": value } }, "required": [field] },
        "then": needs(required),
    })
}

/// When `field` is given (not null), `required` must be too.
fn when_given(field: &str, required: &[&str]) -> Value {
    json!({
        "if": { "properties": { field: { "not": { "type": "null" } } }, "required": [field] },
        "then": needs(required),
    })
}

/// What a body needs that depends on its other fields, as the use cases check it: JSON Schema's
/// `if`/`then`, so a client's validator and the fuzzer know it too.
fn conditions(operation: &str) -> Vec<Value> {
    match operation {
        "addTimelineEntry" => vec![
            when("kind", "decision", &["reason"]),
            when("kind", "contact", &["with"]),
        ],
        "assessIncident" => vec![
            when_given("override_regulator", &["reason"]),
            when_given("override_people", &["reason"]),
        ],
        "addSupplier" => vec![when("role", "sub-processor", &["parent"])],
        "decideNotToNotify" => vec![when("decision", "people_not_required", &["ground"])],
        "logRequest" => vec![json!({ "anyOf": [needs(&["person"]), needs(&["email"])] })],
        _ => Vec::new(),
    }
}

/// An action on a request, one shape per action (and per decision), each naming the fields it
/// needs; every shape takes every field, as the server reads them all and uses its own.
const REQUEST_ACTIONS: &[(&str, Option<&str>, &[&str])] = &[
    ("identify", None, &["person"]),
    ("pause", None, &["at", "reason"]),
    ("resume", None, &["at"]),
    // Art. 12(3): the requester is told of an extension with its reasons.
    ("extend", None, &["months", "reason"]),
    ("decide", Some("erase"), &[]),
    ("decide", Some("refuse"), &["ground", "reason"]),
    ("decide", Some("partial"), &["ground", "keep_supplier", "reason"]),
    ("confirm", None, &["supplier", "at"]),
    ("close", None, &["outcome", "reason"]),
];

/// A field's schema without its `null`: what a field that must be given takes.
fn given(schema: &Value) -> Value {
    schema
        .get("oneOf")
        .and_then(Value::as_array)
        .and_then(|branches| {
            branches
                .iter()
                .find(|branch| branch.get("type") != Some(&json!("null")))
        })
        .cloned()
        .unwrap_or_else(|| schema.clone())
}

/// The request act's body as one shape per action.
fn request_act_shapes(schema: &Value) -> Value {
    let properties = schema.get("properties").cloned().unwrap_or_else(|| json!({}));
    let shapes: Vec<Value> = REQUEST_ACTIONS
        .iter()
        .map(|(action, decision, needed)| {
            let mut own = properties.clone();
            let mut required = vec!["action".to_owned()];
            if let Some(map) = own.as_object_mut() {
                map.insert("action".to_owned(), json!({ "const": action }));
                if let Some(decision) = decision {
                    map.insert("decision".to_owned(), json!({ "const": decision }));
                    required.push("decision".to_owned());
                }
                for field in *needed {
                    let narrowed = map.get(*field).map(given).unwrap_or(Value::Null);
                    map.insert((*field).to_owned(), narrowed);
                    required.push((*field).to_owned());
                }
                if *action == "pause" {
                    map.insert(
                        "reason".to_owned(),
                        json!({ "type": "string", "enum": ["clarification", "fee", "identity"] }),
                    );
                }
                if *decision == Some("partial") {
                    // A partial erasure keeps data under Art. 17(3): the refusal-only grounds are not its.
                    let grounds: Vec<&str> = custody_app::rights::request_decide::GROUNDS
                        .iter()
                        .map(|(name, _, _)| *name)
                        .filter(|name| {
                            !custody_app::rights::request_decide::REFUSAL_ONLY_GROUNDS.contains(name)
                        })
                        .collect();
                    map.insert("ground".to_owned(), json!({ "type": "string", "enum": grounds }));
                }
            }
            let title = match decision {
                Some(decision) => format!("{action} ({decision})"),
                None => (*action).to_owned(),
            };
            json!({
                "title": title, "type": "object", "additionalProperties": false,
                "required": required, "properties": own,
            })
        })
        .collect();
    json!({
        "description": schema.get("description").cloned().unwrap_or(Value::Null),
        "oneOf": shapes,
    })
}

/// The body's schema with the conditions on its fields.
fn with_conditions(mut schema: Value, operation: &str) -> Value {
    if operation == "actOnRequest" {
        return request_act_shapes(&schema);
    }
    let conditions = conditions(operation);
    if let (false, Some(map)) = (conditions.is_empty(), schema.as_object_mut()) {
        map.insert("allOf".to_owned(), Value::Array(conditions));
    }
    schema
}

/// The value types every body and query may name, whether or not a body pulled them in.
fn value_schemas(schemas: &mut Schemas) {
    use crate::api_schema::*;
    fn add<T: ToSchema>(schemas: &mut Schemas) {
        schemas.push((T::name().into_owned(), <T as PartialSchema>::schema()));
    }
    add::<ShortText>(schemas);
    add::<LongText>(schemas);
    add::<Instant>(schemas);
    add::<Cursor>(schemas);
    add::<ReportFormats>(schemas);
    add::<AnswerFormats>(schemas);
    add::<Phases>(schemas);
}

/// The document.
pub fn spec() -> Value {
    let documented = operations();
    let mut paths: Map<String, Value> = Map::new();
    let mut schemas = Schemas::new();
    value_schemas(&mut schemas);
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
        let object = operation_object(operation, route.role, route.limit.is_some(), &mut schemas);
        let item = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(route.method.to_lowercase(), object);
        }
    }
    let mut components: Map<String, Value> = schemas
        .into_iter()
        .filter_map(|(name, schema)| Some((name, serde_json::to_value(schema).ok()?)))
        .collect();
    components.insert(
        "Error".to_owned(),
        json!({
            "type": "object", "required": ["error"], "additionalProperties": false,
            "properties": { "error": {
                "type": "object", "required": ["code", "message", "field"], "additionalProperties": false,
                "properties": {
                    "code": { "type": "string", "description": "stable: malformed_body, malformed_path, malformed_query, malformed_request, unsupported_media_type, not_found, no_route, method_not_allowed, unknown_host, conflict, refused, invalid_value, unreadable_file, unauthenticated, forbidden, rate_limited, throttled, too_large, timeout, audit_chain_broken, internal" },
                    "message": { "type": "string", "description": "what went wrong, in words; what the client sent is shown as sent" },
                    "field": { "type": ["string", "null"], "description": "the field at fault (nature[1], id, at), where one is known" }
                }
            } }
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "custody",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The ledger of who received whose personal data, and the breach response. Tokens are made with `custody token add --name N --role viewer|responder|admin`. A request whose fields do not read as described is refused with 400 and the field at fault (a rule between fields, given as `if`/`then` or `oneOf`, is checked by the use cases and answered 409 or 422); one that matches it but that custody's rules refuse given what is recorded (an act before the incident was known, a late report without the reasons for the delay) with 409; a value that cannot be read as what it says it is (a CSV backlog without its columns) with 422. Lists that grow are read a page at a time with `limit` and `cursor`."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": components,
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

    /// Every `$ref` in `value`.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target.clone());
                }
                map.values().for_each(|inner| refs(inner, out));
            }
            Value::Array(items) => items.iter().for_each(|inner| refs(inner, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_names_only_schemas_it_has_and_every_operation_its_errors() {
        let spec = spec();
        let mut targets = Vec::new();
        refs(&spec, &mut targets);
        assert!(targets.len() > 50, "bodies refer to their value types");
        for target in targets {
            let name = target.trim_start_matches("#/components/schemas/");
            assert!(
                spec["components"]["schemas"].get(name).is_some(),
                "{target} is referred to but not in the document"
            );
        }
        let mut ids = Vec::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let responses = &operation["responses"];
                for status in ["401", "403", "404", "500"] {
                    assert!(responses.get(status).is_some(), "{method} {path} lists {status}");
                }
                if operation.get("requestBody").is_some() {
                    for status in ["400", "413", "415", "422"] {
                        assert!(responses.get(status).is_some(), "{method} {path} lists {status}");
                    }
                    let body = &operation["requestBody"]["content"]["application/json"]["schema"];

                    let shapes = match body.get("oneOf").and_then(Value::as_array) {
                        Some(shapes) => shapes.clone(),
                        None => vec![body.clone()],
                    };
                    for shape in shapes {
                        assert_eq!(
                            shape["additionalProperties"], false,
                            "{method} {path}: unknown fields are refused"
                        );
                    }
                }
                ids.push(operation["operationId"].as_str().unwrap_or_default().to_owned());
            }
        }
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids are unique");
        let open = &spec["paths"]["/api/v1/incidents"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert_eq!(open["properties"]["nature"]["minItems"], 1);
        assert_eq!(
            open["properties"]["aware_at"]["$ref"],
            "#/components/schemas/Instant"
        );
        assert_eq!(spec["components"]["schemas"]["Instant"]["format"], "date-time");
        let id = &spec["paths"]["/api/v1/incidents/{id}"]["get"]["parameters"][0]["schema"];
        assert_eq!(id["type"], "integer", "path ids are whole numbers");
        let act = &spec["paths"]["/api/v1/requests/{id}/act"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let pause = act["oneOf"]
            .as_array()
            .and_then(|shapes| shapes.iter().find(|shape| shape["title"] == "pause"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(pause["required"], json!(["action", "at", "reason"]));
        assert_eq!(pause["properties"]["at"]["$ref"], "#/components/schemas/Instant");
        let created = &spec["paths"]["/api/v1/incidents"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            created["getIncident"]["parameters"]["id"],
            "$response.body#/incident"
        );
    }
}
