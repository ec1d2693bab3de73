//! The identifier index kept beside the store: built by the first match, read by the next, and
//! rebuilt whenever the store's identifiers changed since (an import, a share's canaries), or
//! the file is torn or stale; a killed import leaves the index the store still answers to.

use std::process::Stdio;
use std::time::Duration;

use crate::support::Env;

const INDEX: &str = "identifier-index.bin";

/// The people a file matched, and where the index came from.
fn matched(env: &Env, file: &std::path::Path) -> (Vec<String>, String) {
    let result = env
        .ok(&["match", Env::path_str(file), "--json", "--people"])
        .json();
    let mut refs: Vec<String> = result["refs"]
        .as_array()
        .unwrap_or_else(|| panic!("{result}"))
        .iter()
        .map(|reference| reference.as_str().unwrap().to_owned())
        .collect();
    refs.sort();
    (refs, result["index_source"].as_str().unwrap().to_owned())
}

fn crm(rows: usize) -> String {
    let mut out = String::from("ref,email,category\n");
    for index in 0..rows {
        out.push_str(&format!("P{index:07},person{index}@example.org,member\n"));
    }
    out
}

#[test]
fn the_index_is_kept_between_matches_and_never_used_stale() {
    let env = Env::new();
    env.ok(&["people", "import", Env::path_str(&env.write("crm.csv", crm(50)))]);
    let leak = env.write(
        "dump.csv",
        "email,password\nperson3@example.org,x\nperson7@example.org,y\nnew@example.org,z\n",
    );
    let (first, source) = matched(&env, &leak);
    assert_eq!(first, ["P0000003", "P0000007"]);
    assert_eq!(source, "store", "the first match builds it");
    assert!(env.dir().join(INDEX).exists());
    let (again, source) = matched(&env, &leak);
    assert_eq!(
        (again, source.as_str()),
        (first.clone(), "file"),
        "the next one reads it"
    );

    // An import since: the kept index no longer answers for the store, and is not used.
    let more = env.write(
        "more.csv",
        "ref,email,category\nP9999999,new@example.org,member\n",
    );
    env.ok(&["people", "import", Env::path_str(&more)]);
    let (after, source) = matched(&env, &leak);
    assert_eq!(
        after,
        ["P0000003", "P0000007", "P9999999"],
        "the new person is found"
    );
    assert_eq!(source, "store");
    assert_eq!(matched(&env, &leak).1, "file");

    // A torn or foreign file is rebuilt, not trusted.
    let path = env.dir().join(INDEX);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (torn, source) = matched(&env, &leak);
    assert_eq!((torn.len(), source.as_str()), (3, "store"));
    let mut flipped = std::fs::read(&path).unwrap();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    std::fs::write(&path, &flipped).unwrap();
    assert_eq!(
        matched(&env, &leak),
        (after.clone(), "store".to_owned()),
        "one bit changed in the table: its digest no longer fits"
    );
    let mut foreign = std::fs::read(&path).unwrap();
    foreign[8..12].copy_from_slice(&0x0403_0201_u32.to_ne_bytes());
    std::fs::write(&path, &foreign).unwrap();
    assert_eq!(matched(&env, &leak), (after, "store".to_owned()));
    assert_eq!(matched(&env, &leak).1, "file");
    // Whole in length but not in content: slots wiped, or a table with no empty slot left.
    let mut wiped = std::fs::read(&path).unwrap();
    let end = wiped.len();
    wiped[128..end].fill(0);
    std::fs::write(&path, &wiped).unwrap();
    assert_eq!(matched(&env, &leak).1, "store", "a wiped table is rebuilt");
    let mut full = std::fs::read(&path).unwrap();
    full[128..end].fill(0x5a);
    std::fs::write(&path, &full).unwrap();
    let (answer, source) = matched(&env, &leak);
    assert_eq!(
        (answer.len(), source.as_str()),
        (3, "store"),
        "a full table would never end a probe"
    );
    // A share's canaries are identifiers too: the kept index no longer answers.
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    let sent = env.write("sent.csv", "ref,email\nP0000001,person1@example.org\n");
    let recorded = crate::hardening::record_with_canaries(&env, &sent, &env.root.path().join("canaries.csv"));
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    assert_eq!(matched(&env, &leak).1, "store");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn a_killed_import_leaves_the_index_the_store_answers_to() {
    let env = Env::new();
    env.ok(&["people", "import", Env::path_str(&env.write("crm.csv", crm(20)))]);
    let leak = env.write(
        "dump.csv",
        "email\nperson5@example.org\nperson150000@example.org\n",
    );
    let (before, _) = matched(&env, &leak);
    assert_eq!(before, ["P0000005"]);
    assert_eq!(matched(&env, &leak).1, "file");
    // A large import killed mid-way commits nothing: the kept index still answers, unchanged.
    let big = env.write("big.csv", crm(400_000));
    let mut child = env
        .command(&["people", "import", Env::path_str(&big)], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import ended before it was killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let (killed, source) = matched(&env, &leak);
    assert_eq!((killed, source.as_str()), (before, "file"));
    // An import that ends replaces it.
    let late = env.write(
        "late.csv",
        "ref,email,category\nP0150000,person150000@example.org,member\n",
    );
    env.ok(&["people", "import", Env::path_str(&late)]);
    let (after, source) = matched(&env, &leak);
    assert_eq!(after, ["P0000005", "P0150000"]);
    assert_eq!(source, "store");
}
