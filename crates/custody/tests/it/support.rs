//! Running the binary in a fresh data directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub root: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}\n{}", self.stdout, self.stderr))
    }
}

impl Env {
    /// A new, initialised data directory.
    pub fn new() -> Env {
        let env = Env::bare();
        env.ok(&["init", "--organisation", "Test Party"]);
        env
    }

    /// A temporary root with no data directory made yet.
    pub fn bare() -> Env {
        Env {
            root: tempfile::tempdir().unwrap(),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let output: Output = Command::new(env!("CARGO_BIN_EXE_custody"))
            .arg("--dir")
            .arg(self.dir())
            .args(args)
            .env_remove("CUSTODY_KEY")
            .env_remove("CUSTODY_DIR")
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "custody {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }

    /// Runs and asserts failure with `code`, returning stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "custody {args:?} should exit {code}:\n{}\n{}",
            run.stdout, run.stderr
        );
        run.stderr
    }

    pub fn path_str(path: &Path) -> &str {
        path.to_str().unwrap()
    }
}

/// A small CRM export: five people, semicolons, BOM, UK dates.
pub const CRM: &str = "\u{feff}Member Number;Forename;Surname;E-mail;Mobile;Post Code;DOB;Category;Status;Joined;Left;Notes\n\
M1;Alex;Smith;Alex.Smith@Example.org;020 7946 0001;SW1A 1AA;01/02/1980;Member;Active;01/01/2010;;likes cats\n\
M2;Zoë;Jones;zoe.jones@example.org;;LS1 4AB;1975-05-05;registered supporter;Active;2015-06-01;;\n\
M3;Sam;Patel;sam.patel@example.com;0113 496 0002;M1 1AA;12/12/1990;member;Lapsed;2012-01-01;2019-03-01;\n\
M4;Ruth;Evans;ruth@example.net;;EH1 1YZ;03/03/1960;Donor;Active;2018-01-01;;\n\
M5;Omar;Khan;;0161 496 0003;B1 1AA;04/04/1985;affiliated-supporter;current;2020-07-01;;\n";
