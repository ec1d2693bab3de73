//! The sign-in's defences: cookies, CSRF, cross-site posts, throttling, sign-out, disabled
//! accounts, the second factor, security headers, and no personal data in the server's log.

use crate::desk_support::{DeskServer, PASSWORD, Session, add_user, demo_env, demo_person, form_body};

#[test]
fn sessions_are_guarded_by_cookies_tokens_and_throttling() {
    let (env, _) = demo_env();
    let server = DeskServer::start(&env);

    // The session cookie is HttpOnly and SameSite=Strict; every answer carries the headers.
    let signed = server.try_sign_in("responder", PASSWORD);
    assert_eq!(signed.status, 303);
    let cookie = signed.set_cookie_line("custody_session");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "not behind HTTPS here");
    let session = server.sign_in("responder", PASSWORD);
    for path in [
        "/incidents",
        "/incidents/1",
        "/sign-in",
        "/api/v1/openapi.json",
        "/nowhere",
    ] {
        let reply = session.get(&server, path);
        let csp = reply.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    assert_eq!(session.get(&server, "/nowhere").status, 404);

    // A form without the session's token, or posted from another site, changes nothing.
    let timeline = |text: &str| session.get(&server, "/incidents/1").body.matches(text).count();
    let forged = server.send(
        "POST",
        "/incidents/1/timeline",
        &[
            session.header(),
            ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
        ],
        form_body(&[("kind", "note"), ("text", "forged entry")]).as_bytes(),
    );
    assert_eq!(forged.status, 403);
    let stale = Session {
        csrf: "0".repeat(64),
        ..session.clone()
    };
    let wrong_token = stale.post(
        &server,
        "/incidents/1/timeline",
        &[("kind", "note"), ("text", "forged entry")],
    );
    assert_eq!(wrong_token.status, 403);
    let cross_site = server.send(
        "POST",
        "/incidents/1/timeline",
        &[
            session.header(),
            ("Sec-Fetch-Site", "cross-site".to_owned()),
            ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
        ],
        form_body(&[
            ("csrf", &session.csrf),
            ("kind", "note"),
            ("text", "forged entry"),
        ])
        .as_bytes(),
    );
    assert_eq!(cross_site.status, 403);
    assert_eq!(timeline("forged entry"), 0);
    // A decision without its reasoning is refused with the reason, and nothing is added.
    let refused = session.post(
        &server,
        "/incidents/1/timeline",
        &[("kind", "decision"), ("text", "no notice")],
    );
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("a decision carries its reasoning"),
        "{}",
        refused.body
    );
    assert_eq!(timeline("no notice"), 0);
    let added = session.post(
        &server,
        "/incidents/1/timeline",
        &[("kind", "note"), ("text", "a real entry")],
    );
    assert_eq!(added.status, 303);
    assert_eq!(timeline("a real entry"), 1);

    // The incident page shows the demo's evidence, the supplier's correction, the charts and the
    // overdue clock; the list shows the clock in red too.
    let page = session.get(&server, "/incidents/1").body;
    for part in [
        "id=\"evidence\"",
        "class=\"flag\">correction",
        "id=\"chart-data-categories\"",
        "id=\"chart-status\"",
        "clock-card overdue",
        "id=\"act-people_notified\"",
    ] {
        assert!(page.contains(part), "the incident page lacks {part}");
    }
    assert!(
        session
            .get(&server, "/incidents")
            .body
            .contains("class=\"clock overdue\"")
    );
    let viewer = server.sign_in("viewer", PASSWORD);
    let seen_by_viewer = viewer.get(&server, "/incidents/1").body;
    assert!(
        !seen_by_viewer.contains("id=\"timeline-form\"") && !seen_by_viewer.contains("act-people_notified")
    );

    // Wrong passwords from one address back off that address for that account: a few are free,
    // then each try waits twice as long as the one before.
    let replies: Vec<_> = (0..8)
        .map(|_| server.try_sign_in("viewer", "not the password at all"))
        .collect();
    for wrong in &replies[..3] {
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("The name or the password is wrong"));
    }
    let throttled = replies
        .iter()
        .find(|reply| reply.status == 429)
        .expect("a back-off");
    assert!(
        throttled.body.contains("too many failed sign-ins"),
        "{}",
        throttled.body
    );
    assert!(throttled.header("retry-after").is_some());
    // Another account from the same address still signs in.
    assert_eq!(server.try_sign_in("admin", PASSWORD).status, 303);

    // Signing out ends the session on the server, not only in the browser.
    let out = session.post(&server, "/sign-out", &[]);
    assert_eq!(out.status, 303);
    assert_eq!(
        session.get(&server, "/incidents").header("location"),
        Some("/sign-in")
    );

    // A disabled account's session ends at its next request.
    let admin = server.sign_in("admin", PASSWORD);
    add_user(&env, "temp", "viewer");
    let temp = server.sign_in("temp", PASSWORD);
    assert_eq!(temp.get(&server, "/incidents").status, 200);
    assert_eq!(admin.post(&server, "/admin/users/temp/disable", &[]).status, 303);
    assert_eq!(
        temp.get(&server, "/incidents").header("location"),
        Some("/sign-in")
    );
    assert_eq!(server.try_sign_in("temp", PASSWORD).status, 401);
    let audit: Vec<serde_json::Value> = env
        .ok(&["audit", "export"])
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let by = |action: &str, actor: &str| {
        audit
            .iter()
            .any(|entry| entry["action"] == action && entry["actor"] == actor)
    };
    assert!(
        by("account.disable", "desk:admin"),
        "audited with the acting account"
    );
    assert!(by("desk.sign_in", "desk:responder") && by("desk.sign_out", "desk:responder"));
    assert!(
        by("incident.entry", "desk:responder"),
        "the timeline entry, by its author"
    );
    assert!(!by("incident.entry", "desk:admin"));
    // Refusals are audited off the request path, within a second or so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !env
        .ok(&["audit", "export"])
        .stdout
        .lines()
        .any(|line| line.contains("\"desk.sign_in_refused\"") && line.contains("\"desk:viewer\""))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "refused sign-ins to an account are audited"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // Looking people up by reference and email leaves neither in the log.
    let (reference, email) = demo_person(&env);
    let found = admin.post(&server, "/people", &[("query", &email)]);
    assert_eq!(found.status, 200);
    assert!(
        found.body.contains(&reference),
        "found by email through its keyed hash"
    );
    assert!(found.body.contains("Recipients"));
    let by_ref = admin.post(&server, "/people", &[("query", &reference)]);
    let cli = env.ok(&["person", "show", &reference, "--json"]).json();
    for recipient in cli["recipients"].as_array().unwrap() {
        let supplier = recipient["supplier"].as_str().unwrap();
        assert!(by_ref.body.contains(supplier), "recipient {supplier} listed");
    }
    let log = server.log_text();
    assert!(log.contains("POST /people 200"), "{log}");
    assert!(
        !log.contains(&reference) && !log.contains(&email),
        "personal data in the log:\n{log}"
    );
}

fn code_for(secret_base32: &str, unix_seconds: u64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).generate(unix_seconds)
}

#[allow(clippy::disallowed_methods)] // the authenticator app's clock, not custody's
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_second_factor_once_enrolled_is_required() {
    let (env, _) = demo_env();
    let server = DeskServer::start(&env);
    let session = server.sign_in("viewer", PASSWORD);
    assert!(
        session
            .get(&server, "/account")
            .body
            .contains("Off: signing in takes your password alone")
    );
    assert_eq!(session.post(&server, "/account/totp", &[]).status, 303);
    let page = session.get(&server, "/account");
    let marker = "<code id=\"totp-secret\">";
    let start = page.body.find(marker).unwrap() + marker.len();
    let secret = page.body[start..start + page.body[start..].find('<').unwrap()].to_owned();
    let wrong = session.post(&server, "/account/totp/confirm", &[("code", "000000")]);
    assert!(wrong.body.contains("That code does not match"), "{}", wrong.body);
    let confirmed = session.post(
        &server,
        "/account/totp/confirm",
        &[("code", &code_for(&secret, now()))],
    );
    assert_eq!(confirmed.status, 303);
    assert!(
        session
            .get(&server, "/account")
            .body
            .contains("On: signing in asks for a code")
    );

    // The password alone now leads to the code, and nothing else opens.
    let half = server.try_sign_in("viewer", PASSWORD);
    assert_eq!(half.header("location"), Some("/sign-in/code"));
    let cookie = (
        "Cookie",
        format!("custody_session={}", half.cookie("custody_session").unwrap()),
    );
    assert_eq!(
        server
            .get("/incidents", std::slice::from_ref(&cookie))
            .header("location"),
        Some("/sign-in/code")
    );
    let form = server.get("/sign-in/code", std::slice::from_ref(&cookie));
    let csrf = form.field("csrf").unwrap();
    let post = |code: &str| {
        server.send(
            "POST",
            "/sign-in/code",
            &[
                cookie.clone(),
                ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
            ],
            form_body(&[("csrf", &csrf), ("code", code)]).as_bytes(),
        )
    };
    assert_eq!(post("123456").status, 401);
    // The code used to enrol cannot be used again; the next one works.
    let next = code_for(&secret, now() + 30);
    let done = post(&next);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some("/"),
        "on to the caller's first page"
    );
    // The session gets a new id once whole; the half-made one is gone.
    let whole = (
        "Cookie",
        format!("custody_session={}", done.cookie("custody_session").unwrap()),
    );
    assert_eq!(server.get("/incidents", &[whole]).status, 200);
    assert_eq!(
        server
            .get("/incidents", std::slice::from_ref(&cookie))
            .header("location"),
        Some("/sign-in")
    );
    // A replayed code does not open another session, even after the desk restarts (which ends
    // every session).
    drop(server);
    let server = DeskServer::start(&env);
    let again = server.try_sign_in("viewer", PASSWORD);
    let cookie = (
        "Cookie",
        format!("custody_session={}", again.cookie("custody_session").unwrap()),
    );
    let csrf = server
        .get("/sign-in/code", std::slice::from_ref(&cookie))
        .field("csrf")
        .unwrap();
    let replay = server.send(
        "POST",
        "/sign-in/code",
        &[
            cookie,
            ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
        ],
        form_body(&[("csrf", &csrf), ("code", &next)]).as_bytes(),
    );
    assert_eq!(replay.status, 401);
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(audit.contains("account.totp_enrol"));
}

#[test]
fn admins_manage_users_tokens_suppliers_and_settings_at_the_desk() {
    let (env, _) = demo_env();
    let server = DeskServer::start(&env);
    let admin = server.sign_in("admin", PASSWORD);

    // A user made at the desk signs in; a short password is refused and nothing is made.
    let short = admin.post(
        &server,
        "/admin/users",
        &[("name", "casey"), ("role", "viewer"), ("password", "short")],
    );
    assert_eq!(short.status, 400);
    assert!(short.body.contains("too short"), "{}", short.body);
    assert_eq!(server.try_sign_in("casey", "short").status, 401);
    let made = admin.post(
        &server,
        "/admin/users",
        &[("name", "casey"), ("role", "viewer"), ("password", PASSWORD)],
    );
    assert_eq!(made.status, 303);
    let casey = server.sign_in("casey", PASSWORD);
    let users = admin.get(&server, "/admin/users").body;
    assert!(
        users.contains(" GMT</td>") || users.contains(" BST</td>"),
        "times in the organisation's zone: {users}"
    );
    assert_eq!(casey.get(&server, "/admin/users").status, 403);

    // A token made at the desk is shown once and works; revoked, it does not.
    let page = admin.post(
        &server,
        "/admin/tokens",
        &[("name", "reporting"), ("role", "viewer")],
    );
    let marker = "<code id=\"new-token\">";
    let start = page.body.find(marker).unwrap() + marker.len();
    let token = page.body[start..start + page.body[start..].find('<').unwrap()].to_owned();
    assert!(token.starts_with("cst_"));
    assert_eq!(
        server.api("GET", "/api/v1/incidents", Some(&token), None).status,
        200
    );
    assert!(
        !admin.get(&server, "/admin/tokens").body.contains(&token),
        "shown once only"
    );
    assert_eq!(
        admin.post(&server, "/admin/tokens/reporting/revoke", &[]).status,
        303
    );
    assert_eq!(
        server.api("GET", "/api/v1/incidents", Some(&token), None).status,
        401
    );

    // A supplier registered at the desk, then a bad one refused with the reason.
    let supplier = admin.post(
        &server,
        "/suppliers",
        &[
            ("name", "Example Door Knockers"),
            ("role", "processor"),
            ("notice_hours", "48"),
            ("parent", ""),
        ],
    );
    assert_eq!(supplier.status, 303, "{}", supplier.body);
    assert!(
        admin
            .get(&server, "/suppliers")
            .body
            .contains("Example Door Knockers")
    );
    let orphan = admin.post(
        &server,
        "/suppliers",
        &[
            ("name", "Sub Co"),
            ("role", "sub-processor"),
            ("notice_hours", "x"),
        ],
    );
    assert_eq!(orphan.status, 400);

    // Settings: a bad address changes nothing; a good change is written, shown and audited.
    let before = std::fs::read_to_string(env.dir().join("settings.toml")).unwrap();
    let fields = |email: &'static str| {
        vec![
            ("organisation", "Example Democratic Party (Wales)"),
            ("regulator", "Information Commissioner's Office (ICO)"),
            ("dpo_name", "Data Protection Officer"),
            ("dpo_email", email),
            ("canary_domain", "canary.party.example.org"),
            ("people_target_hours", "48"),
            ("former_retention_years", ""),
            ("notice_names_supplier", "yes"),
        ]
    };
    let bad = admin.post(&server, "/admin/settings", &fields("not an address"));
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(
        std::fs::read_to_string(env.dir().join("settings.toml")).unwrap(),
        before
    );
    let good = admin.post(&server, "/admin/settings", &fields("dpo@party.example.org"));
    assert_eq!(good.status, 200, "{}", good.body);
    assert!(
        good.body.contains("Changed: organisation, people_target_hours."),
        "{}",
        good.body
    );
    let after = std::fs::read_to_string(env.dir().join("settings.toml")).unwrap();
    assert!(after.contains("Example Democratic Party (Wales)") && after.contains("people_target_hours = 48"));
    assert!(
        after.contains("user.demographic.political_opinion"),
        "the special categories are kept:\n{after}"
    );
    assert!(
        casey
            .get(&server, "/incidents")
            .body
            .contains("Example Democratic Party (Wales)")
    );
    env.ok(&["audit", "verify"]);
    let audit = env.ok(&["audit", "export"]).stdout;
    let entry: serde_json::Value = audit
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|entry| entry["action"] == "settings.change")
        .unwrap();
    assert_eq!(entry["actor"], "desk:admin");
    let details: serde_json::Value = serde_json::from_str(entry["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["people_target_hours"]["to"], 48);
    assert_eq!(details["organisation"]["from"], "Example Democratic Party");
    // The CLI reads the same file.
    assert!(env.ok(&["incident", "show", "1", "--json"]).json()["clocks"].is_array());
}

#[test]
fn behind_https_cookies_are_secure_and_browsers_keep_to_https() {
    let (env, _) = demo_env();
    let refused = env.run(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("not a loopback address"),
        "{}",
        refused.stderr
    );
    let server = DeskServer::start_with(&env, &["--behind-https"]);
    let signed = server.try_sign_in("viewer", PASSWORD);
    assert_eq!(signed.status, 303);
    let cookie = signed.set_cookie_line("custody_session");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(signed.header("strict-transport-security").is_some());
}

#[test]
fn a_password_is_changed_with_the_current_one_and_other_sessions_end() {
    let (env, _) = demo_env();
    let server = DeskServer::start(&env);
    let here = server.sign_in("viewer", PASSWORD);
    let elsewhere = server.sign_in("viewer", PASSWORD);
    let new = "a new and longer passphrase";
    let differ = here.post(
        &server,
        "/account/password",
        &[
            ("current", PASSWORD),
            ("password", new),
            ("again", "something else entirely"),
        ],
    );
    assert_eq!(differ.status, 400);
    let wrong = here.post(
        &server,
        "/account/password",
        &[("current", "not my password"), ("password", new), ("again", new)],
    );
    assert_eq!(wrong.status, 401);
    let short = here.post(
        &server,
        "/account/password",
        &[("current", PASSWORD), ("password", "short"), ("again", "short")],
    );
    assert_eq!(short.status, 400);
    assert!(short.body.contains("too short"));
    let changed = here.post(
        &server,
        "/account/password",
        &[("current", PASSWORD), ("password", new), ("again", new)],
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(changed.body.contains("Your password is changed"));
    assert_eq!(here.get(&server, "/incidents").status, 200);
    assert_eq!(
        elsewhere.get(&server, "/incidents").header("location"),
        Some("/sign-in")
    );
    assert_eq!(server.try_sign_in("viewer", PASSWORD).status, 401);
    assert_eq!(server.try_sign_in("viewer", new).status, 303);
    // From the command line too (an admin's reset), read from standard input.
    let mut child = env
        .command(&["user", "passwd", "viewer"], &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        format!("{PASSWORD}\n").as_bytes(),
    )
    .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    assert_eq!(server.try_sign_in("viewer", PASSWORD).status, 303);
    let audit = env.ok(&["audit", "export"]).stdout;
    assert_eq!(
        audit.matches("\"account.password\"").count(),
        2,
        "each change audited"
    );
}

/// A sign-in as a browser behind the HTTPS proxy on this machine would send it, from `address`
/// (the proxy's `X-Forwarded-For`; no traffic goes anywhere but loopback).
fn sign_in_from(
    server: &DeskServer,
    name: &str,
    password: &str,
    address: &str,
) -> crate::desk_support::Reply {
    let forwarded = ("X-Forwarded-For", address.to_owned());
    let form = server.get("/sign-in", std::slice::from_ref(&forwarded));
    let tie = form.cookie("custody_sign_in").unwrap();
    let csrf = form.field("csrf").unwrap();
    server.send(
        "POST",
        "/sign-in",
        &[
            forwarded,
            ("Cookie", format!("custody_sign_in={tie}")),
            ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
        ],
        crate::desk_support::form_body(&[("csrf", &csrf), ("name", name), ("password", password)]).as_bytes(),
    )
}

#[test]
fn a_wrong_password_flood_cannot_lock_the_owner_out_and_raises_one_alert() {
    let (env, _) = demo_env();
    let server = DeskServer::start_with(&env, &["--behind-https"]);
    // A stranger floods the account from one address until they are held back.
    let statuses: Vec<u16> = (0..12)
        .map(|_| sign_in_from(&server, "viewer", "guess", "198.51.100.9").status)
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    // The owner, at home, signs in at once.
    assert_eq!(
        sign_in_from(&server, "viewer", PASSWORD, "203.0.113.5").status,
        303
    );
    // Guesses spread over many addresses are not a lock either, but they raise an alert on the
    // account, once.
    for n in 0..12 {
        let reply = sign_in_from(&server, "viewer", "guess", &format!("192.0.2.{}", 10 + n));
        assert_eq!(reply.status, 401);
    }
    assert_eq!(
        sign_in_from(&server, "viewer", PASSWORD, "203.0.113.5").status,
        303
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let alerts = loop {
        let audit = env.ok(&["audit", "export"]).stdout;
        let alerts = audit
            .lines()
            .filter(|line| line.contains("\"desk.sign_in_alert\"") && line.contains("\"desk:viewer\""))
            .count();
        if alerts > 0 || std::time::Instant::now() > deadline {
            break alerts;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(alerts, 1);
}

#[test]
fn known_and_unknown_names_take_the_same_time_to_refuse() {
    let (env, _) = demo_env();
    let server = DeskServer::start_with(&env, &["--behind-https"]);
    // Pairs sent back to back (which goes first alternates), each from an address of its own so
    // no back-off starts; the difference within a pair is free of what the machine does
    // meanwhile, and its median is what an attacker timing many tries would learn.
    let mut differences = Vec::new();
    let mut times = Vec::new();
    for n in 0..40u32 {
        let time = |name: &str, address: String| {
            let started = std::time::Instant::now();
            assert_eq!(
                sign_in_from(&server, name, "wrong password", &address).status,
                401
            );
            started.elapsed().as_secs_f64()
        };
        let (known, unknown) = if n % 2 == 0 {
            let known = time("viewer", format!("198.51.100.{}", n * 2));
            (known, time("nobody-here", format!("198.51.100.{}", n * 2 + 1)))
        } else {
            let unknown = time("nobody-here", format!("198.51.100.{}", n * 2 + 1));
            (time("viewer", format!("198.51.100.{}", n * 2)), unknown)
        };
        differences.push(known - unknown);
        times.push(known.min(unknown));
    }
    differences.sort_by(f64::total_cmp);
    times.sort_by(f64::total_cmp);
    let (difference, typical) = (differences[differences.len() / 2], times[times.len() / 2]);
    eprintln!(
        "sign-in refusal: known minus unknown name, median of 40 pairs: {:.2} ms (typical answer {:.1} ms)",
        difference * 1000.0,
        typical * 1000.0
    );
    assert!(
        difference.abs() < 0.004_f64.max(0.2 * typical),
        "known names take {:.2} ms longer (typical answer {:.1} ms)",
        difference * 1000.0,
        typical * 1000.0
    );
}

#[test]
fn a_refused_sign_in_is_audited_with_its_time_even_when_the_desk_stops_at_once() {
    let (env, _) = demo_env();
    let server = DeskServer::start(&env);
    assert_eq!(server.try_sign_in("viewer", "not the password").status, 401);
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let audit = env.ok(&["audit", "export"]).stdout;
    let refused = audit
        .lines()
        .find(|line| line.contains("\"desk.sign_in_refused\"") && line.contains("\"desk:viewer\""))
        .expect("written before the desk stopped");
    assert!(
        refused.contains("wrong_passwords") && refused.contains("first_at"),
        "{refused}"
    );
}
