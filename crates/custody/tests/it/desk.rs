//! The web desk against a real server process: every route checks who is asking, the API, and
//! the sign-in's defences.

use crate::desk_support::{DeskServer, PASSWORD, Session, demo_env, demo_person, encode};
use crate::support::Env;

/// Every route, its surface and the least role it needs: the access policy. A route served but
/// not listed here (or listed but not served) fails `the_access_table_is_the_one_served`.
const ROUTES: &[(&str, &str, &str, Option<&str>)] = &[
    ("GET", "/sign-in", "public", None),
    ("POST", "/sign-in", "public", None),
    ("GET", "/sign-in/code", "public", None),
    ("POST", "/sign-in/code", "public", None),
    ("GET", "/static/desk.css", "public", None),
    ("GET", "/static/desk.js", "public", None),
    ("GET", "/api/v1/openapi.json", "public", None),
    ("POST", "/sign-out", "page", Some("supplier")),
    ("GET", "/", "page", Some("supplier")),
    ("GET", "/supplier", "page", Some("supplier")),
    ("GET", "/api/v1/supplier", "api", Some("supplier")),
    ("GET", "/api/v1/supplier/incidents/{id}", "api", Some("supplier")),
    ("GET", "/supplier/incidents/{id}", "page", Some("supplier")),
    (
        "POST",
        "/supplier/incidents/{id}/answer",
        "page",
        Some("supplier"),
    ),
    (
        "POST",
        "/api/v1/supplier/incidents/{id}/answer",
        "api",
        Some("supplier"),
    ),
    (
        "POST",
        "/supplier/requests/{id}/confirm",
        "page",
        Some("supplier"),
    ),
    (
        "POST",
        "/api/v1/supplier/requests/{id}/confirm",
        "api",
        Some("supplier"),
    ),
    (
        "POST",
        "/supplier/shares/{id}/confirm-deletion",
        "page",
        Some("supplier"),
    ),
    (
        "POST",
        "/api/v1/supplier/shares/{id}/confirm-deletion",
        "api",
        Some("supplier"),
    ),
    ("GET", "/incidents", "page", Some("viewer")),
    ("POST", "/incidents", "page", Some("responder")),
    ("GET", "/incidents/{id}", "page", Some("viewer")),
    ("POST", "/incidents/{id}/statements", "page", Some("responder")),
    ("POST", "/incidents/{id}/assess", "page", Some("responder")),
    ("GET", "/incidents/{id}/progress", "page", Some("viewer")),
    ("GET", "/incidents/{id}/notice", "page", Some("responder")),
    ("POST", "/incidents/{id}/notice", "page", Some("responder")),
    ("GET", "/incidents/{id}/letters", "page", Some("responder")),
    ("POST", "/incidents/{id}/notify", "page", Some("responder")),
    ("POST", "/incidents/{id}/letters", "page", Some("responder")),
    (
        "POST",
        "/incidents/{id}/letters/posted",
        "page",
        Some("responder"),
    ),
    (
        "GET",
        "/incidents/{id}/statement/{format}",
        "page",
        Some("viewer"),
    ),
    ("GET", "/incidents/{id}/report", "page", Some("viewer")),
    ("GET", "/incidents/{id}/report/{format}", "page", Some("viewer")),
    ("POST", "/incidents/{id}/timeline", "page", Some("responder")),
    ("POST", "/incidents/{id}/acts", "page", Some("responder")),
    ("POST", "/incidents/{id}/obligations", "page", Some("responder")),
    ("POST", "/incidents/{id}/impact", "page", Some("responder")),
    ("GET", "/suppliers", "page", Some("viewer")),
    ("POST", "/suppliers", "page", Some("admin")),
    ("GET", "/suppliers/{name}", "page", Some("viewer")),
    ("GET", "/suppliers/{name}/holdings", "page", Some("viewer")),
    ("GET", "/shares/{id}", "page", Some("viewer")),
    ("POST", "/incidents/{id}/amend", "page", Some("responder")),
    ("POST", "/incidents/{id}/decisions", "page", Some("responder")),
    (
        "POST",
        "/incidents/{id}/evidence/confirm",
        "page",
        Some("responder"),
    ),
    ("GET", "/register", "page", Some("viewer")),
    ("GET", "/requests", "page", Some("viewer")),
    ("POST", "/requests", "page", Some("responder")),
    ("POST", "/requests/import", "page", Some("responder")),
    ("GET", "/requests/{id}", "page", Some("viewer")),
    ("POST", "/requests/{id}/act", "page", Some("responder")),
    ("POST", "/requests/{id}/requester", "page", Some("responder")),
    ("POST", "/requests/{id}/answer", "page", Some("responder")),
    ("GET", "/retention", "page", Some("viewer")),
    ("GET", "/people", "page", Some("responder")),
    ("POST", "/people", "page", Some("responder")),
    ("GET", "/audit", "page", Some("viewer")),
    ("GET", "/account", "page", Some("supplier")),
    ("POST", "/account/password", "page", Some("supplier")),
    ("POST", "/account/totp", "page", Some("supplier")),
    ("POST", "/account/totp/confirm", "page", Some("supplier")),
    ("GET", "/admin/users", "page", Some("admin")),
    ("POST", "/admin/users", "page", Some("admin")),
    ("POST", "/admin/users/{name}/disable", "page", Some("admin")),
    ("POST", "/admin/users/{name}/reset-totp", "page", Some("admin")),
    ("GET", "/admin/tokens", "page", Some("admin")),
    ("POST", "/admin/tokens", "page", Some("admin")),
    ("POST", "/admin/tokens/{name}/revoke", "page", Some("admin")),
    ("GET", "/admin/settings", "page", Some("admin")),
    ("POST", "/admin/settings", "page", Some("admin")),
    ("GET", "/api/v1/incidents", "api", Some("viewer")),
    ("POST", "/api/v1/incidents", "api", Some("responder")),
    ("GET", "/api/v1/incidents/{id}", "api", Some("viewer")),
    (
        "POST",
        "/api/v1/incidents/{id}/statements",
        "api",
        Some("responder"),
    ),
    ("POST", "/api/v1/incidents/{id}/assess", "api", Some("responder")),
    ("GET", "/api/v1/incidents/{id}/timeline", "api", Some("viewer")),
    (
        "POST",
        "/api/v1/incidents/{id}/timeline",
        "api",
        Some("responder"),
    ),
    ("POST", "/api/v1/incidents/{id}/acts", "api", Some("responder")),
    (
        "POST",
        "/api/v1/incidents/{id}/obligations",
        "api",
        Some("responder"),
    ),
    ("GET", "/api/v1/incidents/{id}/report", "api", Some("viewer")),
    (
        "GET",
        "/api/v1/incidents/{id}/notifications",
        "api",
        Some("viewer"),
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/notifications",
        "api",
        Some("responder"),
    ),
    ("GET", "/api/v1/suppliers", "api", Some("viewer")),
    ("POST", "/api/v1/suppliers", "api", Some("admin")),
    ("GET", "/api/v1/suppliers/{name}", "api", Some("viewer")),
    ("GET", "/api/v1/suppliers/{name}/holdings", "api", Some("viewer")),
    ("GET", "/api/v1/shares/{id}", "api", Some("viewer")),
    ("POST", "/api/v1/incidents/{id}/amend", "api", Some("responder")),
    (
        "POST",
        "/api/v1/incidents/{id}/decisions",
        "api",
        Some("responder"),
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/evidence/confirm",
        "api",
        Some("responder"),
    ),
    ("GET", "/api/v1/register", "api", Some("viewer")),
    ("GET", "/api/v1/people/{ref}", "api", Some("responder")),
    ("POST", "/api/v1/people/lookup", "api", Some("responder")),
    ("GET", "/api/v1/audit", "api", Some("viewer")),
    ("GET", "/api/v1/requests", "api", Some("viewer")),
    ("POST", "/api/v1/requests", "api", Some("responder")),
    ("POST", "/api/v1/requests/import", "api", Some("responder")),
    ("GET", "/api/v1/requests/{id}", "api", Some("viewer")),
    ("POST", "/api/v1/requests/{id}/act", "api", Some("responder")),
    ("GET", "/api/v1/requests/{id}/answer", "api", Some("responder")),
    ("GET", "/api/v1/retention", "api", Some("viewer")),
];

fn rank(role: &str) -> u8 {
    match role {
        "supplier" => 0,
        "viewer" => 1,
        "responder" => 2,
        "admin" => 3,
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn the_access_table_is_the_one_served() {
    let env = Env::bare();
    let served = env.ok(&["serve", "--routes"]).json();
    let mut served: Vec<String> = served
        .as_array()
        .unwrap()
        .iter()
        .map(|route| {
            format!(
                "{} {} {} {}",
                route["method"].as_str().unwrap(),
                route["path"].as_str().unwrap(),
                route["surface"].as_str().unwrap(),
                route["role"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let mut listed: Vec<String> = ROUTES
        .iter()
        .map(|(method, path, surface, role)| format!("{method} {path} {surface} {}", role.unwrap_or("-")))
        .collect();
    served.sort();
    listed.sort();
    let unlisted: Vec<&String> = served.iter().filter(|route| !listed.contains(route)).collect();
    let gone: Vec<&String> = listed.iter().filter(|route| !served.contains(route)).collect();
    assert!(
        unlisted.is_empty() && gone.is_empty(),
        "served but not listed (add them to ROUTES with the role they need): {unlisted:#?}\n\
         listed but not served: {gone:#?}"
    );
}

fn concrete(path: &str, reference: &str) -> String {
    let supplier = encode("Example Membership Services");
    let name = if path.starts_with("/admin/") {
        "nobody"
    } else {
        supplier.as_str()
    };
    let path = path
        .replace("{id}", "1")
        .replace("{name}", name)
        .replace("{format}", "md")
        .replace("{ref}", reference);
    if path.ends_with("/holdings") {
        format!("{path}?at=2021-10-29")
    } else {
        path
    }
}

#[test]
fn every_route_checks_who_is_asking_for_every_role() {
    let (env, tokens) = demo_env();
    let (reference, _) = demo_person(&env);
    let server = DeskServer::start(&env);
    let roles = ["supplier", "viewer", "responder", "admin"];
    let sessions: Vec<(&str, Session)> = roles
        .iter()
        .map(|role| (*role, server.sign_in(role, PASSWORD)))
        .collect();
    for (method, template, surface, need) in ROUTES {
        let path = concrete(template, &reference);
        let route = format!("{method} {template}");
        match *surface {
            "public" => {
                if *method == "GET" {
                    let reply = server.get(&path, &[]);
                    assert!(
                        matches!(reply.status, 200 | 303),
                        "{route}: public, got {}",
                        reply.status
                    );
                }
            }
            "page" => {
                let anonymous = server.send(method, &path, &[], b"");
                assert_eq!(anonymous.status, 303, "{route} without a session");
                assert_eq!(anonymous.header("location"), Some("/sign-in"), "{route}");
                for (role, session) in &sessions {
                    // Signing out ends the session: that route gets a session of its own.
                    let fresh;
                    let session = if *template == "/sign-out" {
                        fresh = server.sign_in(role, PASSWORD);
                        &fresh
                    } else {
                        session
                    };
                    let reply = if *method == "GET" {
                        session.get(&server, &path)
                    } else {
                        session.post(&server, &path, &[])
                    };
                    let allowed = rank(role) >= rank(need.unwrap());
                    if *template == "/sign-out" {
                        // Signing out answers by sending the browser to sign in: the session is over.
                        assert_eq!(reply.status, 303, "{route} as {role}");
                        assert_eq!(
                            session.get(&server, "/incidents").header("location"),
                            Some("/sign-in")
                        );
                        continue;
                    }
                    check(&route, role, allowed, &reply);
                }
            }
            "api" => {
                let anonymous = server.api(method, &path, None, None);
                assert_eq!(
                    anonymous.status, 401,
                    "{route} without a token: {}",
                    anonymous.body
                );
                assert!(
                    anonymous
                        .header("www-authenticate")
                        .is_some_and(|value| value.starts_with("Bearer"))
                );
                let wrong = server.api(
                    method,
                    &path,
                    Some("cst_0000000000000000000000000000000000000000000000000000000000000000"),
                    None,
                );
                assert_eq!(wrong.status, 401, "{route} with a token that does not exist");
                for (role, token) in &tokens {
                    let reply = server.api(method, &path, Some(token), None);
                    let allowed = rank(role) >= rank(need.unwrap());
                    check(&route, role, allowed, &reply);
                }
            }
            other => panic!("unknown surface {other}"),
        }
    }
}

fn check(route: &str, role: &str, allowed: bool, reply: &crate::desk_support::Reply) {
    assert!(
        reply.status < 500,
        "{route} as {role}: {} {}",
        reply.status,
        reply.body
    );
    if allowed && route.starts_with("GET ") {
        // Every page and answer renders in full for those allowed ("/" sends on to the incidents,
        // or a supplier to its side; staff asking for a supplier's side are sent to the
        // suppliers, or told the token is not a supplier's).
        let staff = role != "supplier";
        let expected = match route {
            "GET /" => 303,
            "GET /supplier" | "GET /supplier/incidents/{id}" if staff => 303,
            "GET /api/v1/supplier" | "GET /api/v1/supplier/incidents/{id}" if staff => 404,
            _ => 200,
        };
        assert_eq!(reply.status, expected, "{route} as {role}: {}", reply.body);
    }
    if allowed {
        assert!(
            !matches!(reply.status, 401 | 403) && reply.header("location") != Some("/sign-in"),
            "{route} as {role} should be allowed: {} {}",
            reply.status,
            reply.body
        );
    } else {
        assert_eq!(
            reply.status, 403,
            "{route} as {role} should be forbidden: {}",
            reply.body
        );
    }
}
