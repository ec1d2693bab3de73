//! Data directories written by an earlier custody keep working: `fixtures/round-one/` was
//! written by the release before typed events (`fixtures/make-round-one.sh`), with every kind of
//! incident and request event. Each test reads a fresh copy.

use std::path::Path;

use crate::support::Env;

/// The fixture's key: a test key, never a real one.
const FIXTURE_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// A copy of the fixture as a data directory, and a runner that gives it its key.
fn round_one() -> Env {
    let env = Env::bare();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/round-one");
    let dir = env.dir();
    std::fs::create_dir(&dir).unwrap();
    for name in ["custody.db", "settings.toml", "audit.head"] {
        std::fs::copy(fixture.join(name), dir.join(name)).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        for name in ["custody.db", "settings.toml", "audit.head"] {
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    env
}

fn ok(env: &Env, args: &[&str]) -> String {
    let output = env
        .command(args, &[("CUSTODY_KEY", FIXTURE_KEY.to_owned())])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "custody {args:?}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_directory_from_the_release_before_reads_in_full() {
    let env = round_one();
    ok(&env, &["audit", "verify"]);
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&env, &["incident", "show", "1", "--json"])).unwrap();
    let timeline = shown["timeline"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = timeline
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "entry",
        "act",
        "statement",
        "evidence",
        "impact",
        "assessment",
        "notify",
    ] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    for entry in ["note: ", "decision: ", "contact: ", "update: "] {
        assert!(
            timeline
                .iter()
                .any(|event| event["summary"].as_str().unwrap().starts_with(entry)),
            "no {entry}entry"
        );
    }
    assert_eq!(shown["statements"][1]["correction"], true);
    for id in ["1", "2", "3"] {
        let request: serde_json::Value =
            serde_json::from_str(&ok(&env, &["request", "show", id, "--json"])).unwrap();
        assert!(
            request["events"]
                .as_array()
                .is_some_and(|events| !events.is_empty()),
            "{request}"
        );
    }
    // Its regulator was told before copies were kept: that was the initial report.
    let output = env
        .command(
            &[
                "incident",
                "record",
                "1",
                "regulator-notified",
                "--at",
                "2021-11-01 15:20",
            ],
            &[("CUSTODY_KEY", FIXTURE_KEY.to_owned())],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("regulator-updated"));
    // And it takes new changes.
    ok(
        &env,
        &[
            "incident",
            "timeline",
            "1",
            "add",
            "--kind",
            "note",
            "--text",
            "Read by a newer custody",
        ],
    );
    ok(&env, &["audit", "verify"]);
}
