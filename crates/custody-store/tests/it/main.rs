//! The store's contract, run against every backend: a real SQLite file and a real PostgreSQL
//! server (started by `custody-testdb`). Each contract test is written once, for any `Store`,
//! and run once per backend (`sqlite::…` and `postgres::…`); a few tests check what only one
//! backend has (SQLite's delivery journal and file migrations, PostgreSQL's claims across
//! connections).

// Test code may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use custody_core::{
    CategoryKey, CategorySet, ContactRole, DeskRole, EventId, FeedWindow, IdentifierKind, IncidentId,
    Instant, MessageId, PersonCategory, PersonId, PersonSet, PersonStatus, ShareId, ShareKind, ShareMeta,
    SupplierId, SupplierRole, TimeZoneName, parse_day, parse_instant,
};
use custody_store::{
    AuditDraft, AuditSigner, BoxError, ChainEnd, Error, ImportRow, NewPerson, NewShare, NewSupplier,
    PostgresStore, ReadAt, SqliteStore, Store,
};

/// A store behind the trait, as custody holds it.
type Boxed = Box<dyn Store + Send>;

/// Which backend a contract test runs on.
#[derive(Clone, Copy)]
enum Kind {
    Sqlite,
    Postgres,
}

/// Where one test's store lives: a temporary directory, or a database of its own on the test
/// server.
enum Fixture {
    Sqlite(tempfile::TempDir),
    Postgres { name: String, url: String },
}

impl Fixture {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Sqlite => Fixture::Sqlite(tempfile::tempdir().unwrap()),
            Kind::Postgres => {
                let server = custody_testdb::server();
                let url = server.database("store");
                let name = url.rsplit('/').next().unwrap().to_owned();
                Fixture::Postgres { name, url }
            }
        }
    }

    /// A new connection to the store (created on first use).
    fn open(&self) -> Boxed {
        match self {
            Fixture::Sqlite(dir) => {
                Box::new(SqliteStore::open(&dir.path().join("custody.db"), true).unwrap())
            }
            Fixture::Postgres { url, .. } => Box::new(PostgresStore::open(url).unwrap()),
        }
    }

    /// Runs SQL with a tool of the test's own, as an insider with the database's file or its
    /// owner's password would.
    fn raw(&self, sql: &str) -> Result<(), String> {
        match self {
            Fixture::Sqlite(dir) => rusqlite::Connection::open(dir.path().join("custody.db"))
                .unwrap()
                .execute_batch(sql)
                .map_err(|error| error.to_string()),
            Fixture::Postgres { name, .. } => custody_testdb::server().execute(name, sql),
        }
    }
}

/// Generates one test per backend for each contract test named.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::Kind::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::Kind::Postgres) } )*
        }
    };
}

conformance!(
    person_sets_survive_the_chunking_exactly,
    a_failing_row_rolls_the_whole_import_back,
    duplicates_are_caught_in_a_fresh_and_in_a_later_import,
    rows_found_unchanged_write_nothing_and_count_once,
    a_different_key_is_refused,
    feeds_select_by_category_and_dates,
    audit_entries_chain_to_each_other,
    names_fold_ascii_case_only_and_sort_alike,
    supplier_contacts_are_kept_per_supplier,
    supplier_accounts_are_bound_to_their_supplier,
    an_update_replaces_identifiers_and_contact_only_when_they_change,
    contacts_are_read_for_everyone_or_for_a_set,
    incident_events_are_append_only,
    requests_events_and_erasures_are_append_only_and_erasures_unique,
    a_read_snapshot_does_not_see_a_write_made_meanwhile,
    an_append_after_the_newest_entries_were_deleted_is_refused_and_writes_nothing,
    concurrent_writers_keep_one_chain,
    notices_are_queued_claimed_and_answered,
    supplier_mail_is_claimed_once_and_kept_as_queued,
);

/// A signer that keeps its record of the chain's end in memory, as `audit.head` does on disk:
/// the newest committed entry and the one a write under way is about to commit. Each test runs
/// on a thread of its own with one store, so the record is the thread's.
struct TestSigner;

type EndRecord = (Option<(i64, Vec<u8>)>, Option<(i64, Vec<u8>)>);

thread_local! {
    static END: std::cell::RefCell<EndRecord> = const { std::cell::RefCell::new((None, None)) };
}

fn owned(end: Option<ChainEnd<'_>>) -> Option<(i64, Vec<u8>)> {
    end.map(|end| (end.seq, end.hash.to_vec()))
}

impl AuditSigner for TestSigner {
    fn chain_hash(&self, previous: &[u8], entry: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (index, byte) in previous.iter().chain(entry).enumerate() {
            out[index % 32] = out[index % 32].wrapping_mul(31).wrapping_add(*byte);
        }
        out
    }

    fn check_end(&self, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        END.with_borrow(|(committed, pending)| {
            let newest = owned(newest);
            if newest == *committed || (pending.is_some() && newest == *pending) {
                Ok(())
            } else {
                Err(format!(
                    "the store ends at {:?}, not {:?}",
                    newest.map(|end| end.0),
                    committed.as_ref().map(|end| end.0)
                ))
            }
        })
    }

    fn stage(&self, newest: Option<ChainEnd<'_>>, entry: ChainEnd<'_>) -> Result<(), String> {
        END.set((owned(newest), owned(Some(entry))));
        Ok(())
    }

    fn settle(&self, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        END.with_borrow_mut(|end| {
            if end.1.is_some() && owned(newest) == end.1 {
                *end = (owned(newest), None);
            }
        });
        Ok(())
    }

    fn check_kept(&self, kept: Option<&str>, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        let expected = newest.map(|end| record(Some(end)));
        if kept.map(str::to_owned) == expected {
            Ok(())
        } else {
            Err(format!(
                "the store ends at {expected:?}, its record says {kept:?}"
            ))
        }
    }

    fn seal_end(&self, end: Option<ChainEnd<'_>>) -> Result<String, String> {
        Ok(record(end))
    }
}

/// The test's record of a chain end (unkeyed: the store only keeps and hands it back).
fn record(end: Option<ChainEnd<'_>>) -> String {
    end.map_or_else(String::new, |end| format!("{} {:?}", end.seq, end.hash))
}

fn at(text: &str) -> Instant {
    parse_instant(text, &TimeZoneName::parse("Europe/London").unwrap()).unwrap()
}

fn draft(action: &str) -> AuditDraft {
    AuditDraft {
        actor: "test".into(),
        action: action.into(),
        subject: "x".into(),
        at: at("2021-01-01"),
        details: serde_json::json!({}),
    }
}

fn person(reference: &str, category: PersonCategory, joined: Option<&str>, left: Option<&str>) -> NewPerson {
    NewPerson {
        line: 2,
        reference: reference.into(),
        category,
        status: if left.is_some() {
            PersonStatus::Former
        } else {
            PersonStatus::Current
        },
        joined_on: joined.map(|text| parse_day(text).unwrap()),
        left_on: left.map(|text| parse_day(text).unwrap()),
        country: Some("GB".into()),
        contact: None,
        contact_digest: None,
        fields: custody_core::PersonFields::ALL,
        identifiers: vec![(IdentifierKind::EmailStrict, [reference.len() as u8; 16])],
        source_digest: None,
        region: None,
    }
}

fn store(kind: Kind) -> (Fixture, Boxed) {
    let fixture = Fixture::new(kind);
    let store = fixture.open();
    (fixture, store)
}

fn import(store: &mut Boxed, people: Vec<NewPerson>) -> Result<custody_store::ImportCounts, Error> {
    let mut rows = people.into_iter().map(ImportRow::Person).map(Ok::<_, BoxError>);
    store.import_people(&mut rows, None, draft("people.import"), &TestSigner)
}

fn supplier(store: &mut Boxed, name: &str) -> SupplierId {
    let supplier = NewSupplier {
        name: name.into(),
        role: SupplierRole::Processor,
        parent: None,
        notice_hours: None,
        contract: None,
        contact: None,
        created_at: at("2020-01-01"),
        country: None,
        transfer_safeguard: None,
    };
    store
        .add_supplier(supplier, draft("supplier.add"), &TestSigner)
        .unwrap()
}

/// A breach of confidentiality at a supplier, learned on 29 October 2021.
fn confidentiality_incident(supplier_id: SupplierId) -> custody_store::NewIncident {
    custody_store::NewIncident {
        supplier_id: Some(supplier_id),
        summary: "x".into(),
        nature: vec![custody_core::Nature::Confidentiality],
        aware_at: at("2021-10-29 18:30"),
        occurred_from: None,
        occurred_to: None,
        supplier_discovered_at: None,
        supplier_notified_at: None,
        cyber: None,
        opened_at: at("2021-10-29 19:00"),
    }
}

fn export(supplier_id: SupplierId, shared_at: &str) -> NewShare {
    NewShare {
        meta: ShareMeta {
            id: ShareId::new(0),
            supplier_id,
            kind: ShareKind::Export,
            shared_at: at(shared_at),
            ends_at: None,
            categories: [CategoryKey::parse("user.contact.email").unwrap()]
                .into_iter()
                .collect::<CategorySet>(),
            retention_days: Some(30),
            deleted_at: None,
            backups_until: None,
        },
        purpose: "test".into(),
        marketing: false,
        audience: Vec::new(),
        row_count: 0,
        unmatched_count: 0,
        unmatched_lines: Vec::new(),
        file_name: None,
        file_sha256: None,
        columns: Vec::new(),
        recorded_at: at(shared_at),
    }
}

fn person_sets_survive_the_chunking_exactly(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    let id = supplier(&mut store, "A");
    let ids: PersonSet = [1, 65_535, 65_536, 65_537, 200_000, 4_000_000, u32::MAX]
        .into_iter()
        .collect();
    let mut dense = ids.clone();
    dense.insert_range(1_000_000..1_300_000);
    let first = store
        .record_share(
            export(id, "2021-01-01"),
            &dense,
            Vec::new(),
            draft("share.record"),
            &TestSigner,
        )
        .unwrap();
    let second = store
        .record_share(
            export(id, "2021-02-01"),
            &ids,
            Vec::new(),
            draft("share.record"),
            &TestSigner,
        )
        .unwrap();
    assert_eq!(store.share_people(first.id).unwrap(), dense);
    assert_eq!(store.share_people(second.id).unwrap(), ids);
    assert_eq!(store.export_shares_of(65_536).unwrap(), vec![first.id, second.id]);
    assert_eq!(store.export_shares_of(1_100_000).unwrap(), vec![first.id]);
    assert_eq!(store.export_shares_of(65_538).unwrap(), Vec::<ShareId>::new());
    assert_eq!(store.share(first.id).unwrap().unwrap().people_count, dense.len());
}

fn a_failing_row_rolls_the_whole_import_back(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    let good = person("M1", PersonCategory::Member, None, None);
    let mut rows = vec![
        Ok(ImportRow::Person(good)),
        Err::<ImportRow, BoxError>("bad row at line 3".into()),
    ]
    .into_iter();
    let error = store
        .import_people(&mut rows, None, draft("people.import"), &TestSigner)
        .unwrap_err();
    assert!(matches!(error, Error::Aborted(_)), "{error}");
    assert!(store.person_by_ref("M1").unwrap().is_none());
    assert!(
        store.audit_head().unwrap().is_none(),
        "no audit entry for a change that did not happen"
    );
}

fn duplicates_are_caught_in_a_fresh_and_in_a_later_import(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    // A, B, B, A: the first reference seen again is B, at line 4 (of a file whose first person
    // is on line 2), on a fresh store as on a later import.
    let on_line = |reference: &str, line: u64| NewPerson {
        line,
        ..person(reference, PersonCategory::Member, None, None)
    };
    let fresh = import(
        &mut store,
        vec![on_line("A", 2), on_line("B", 3), on_line("B", 4), on_line("A", 5)],
    );
    assert!(
        matches!(&fresh, Err(Error::DuplicateReference { reference, line: 4 }) if reference == "B"),
        "{fresh:?}"
    );
    import(&mut store, vec![person("M1", PersonCategory::Member, None, None)]).unwrap();
    let later = import(
        &mut store,
        vec![
            person("M1", PersonCategory::Member, None, None),
            person("M1", PersonCategory::Donor, None, None),
        ],
    );
    assert!(
        matches!(later, Err(Error::DuplicateReference { .. })),
        "{later:?}"
    );
    let counts = import(
        &mut store,
        vec![
            person("M1", PersonCategory::Donor, None, None),
            person("M2", PersonCategory::Member, None, None),
        ],
    )
    .unwrap();
    assert_eq!((counts.inserted, counts.updated), (1, 1));
    assert_eq!(
        store.person_by_ref("M1").unwrap().unwrap().category,
        PersonCategory::Donor
    );
    assert_eq!(
        store
            .people_by_identifier(IdentifierKind::EmailStrict, &[2; 16])
            .unwrap()
            .len(),
        2
    );
}

fn rows_found_unchanged_write_nothing_and_count_once(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    let with_digest = |reference: &str, digest: u8| NewPerson {
        source_digest: Some([digest; 16]),
        ..person(reference, PersonCategory::Member, None, None)
    };
    import(
        &mut store,
        vec![
            with_digest("M1", 1),
            with_digest("M2", 2),
            person("M3", PersonCategory::Member, None, None),
        ],
    )
    .unwrap();
    let held = store.source_digests().unwrap();
    let m1 = store.person_by_ref("M1").unwrap().unwrap().id;
    let m2 = store.person_by_ref("M2").unwrap().unwrap().id;
    // Sorted by digest; a person imported without one has none.
    assert_eq!(held.digests, vec![([1; 16], m1), ([2; 16], m2)]);
    let generation = store.identifiers_generation().unwrap();
    assert_eq!(held.at.0, generation);
    let run = |store: &mut Boxed, rows: Vec<ImportRow>, at: &ReadAt| {
        let mut rows = rows.into_iter().map(Ok::<_, BoxError>);
        store.import_people(&mut rows, Some(at), draft("people.import"), &TestSigner)
    };
    // M1 found unchanged, M3 read again to the same values (its digest is now kept), M2 changed.
    let counts = run(
        &mut store,
        vec![
            ImportRow::Unchanged { line: 2, person: m1 },
            ImportRow::Person(with_digest("M3", 3)),
            ImportRow::Person(NewPerson {
                source_digest: Some([4; 16]),
                ..person("M2", PersonCategory::Donor, None, None)
            }),
        ],
        &held.at,
    )
    .unwrap();
    assert_eq!((counts.inserted, counts.updated, counts.unchanged), (0, 1, 2));
    let m3 = store.person_by_ref("M3").unwrap().unwrap().id;
    let now = store.source_digests().unwrap();
    assert_eq!(now.digests, vec![([1; 16], m1), ([3; 16], m3), ([4; 16], m2)]);
    assert_ne!(now.at, held.at, "a changed row makes a new generation");
    // Digests read before that import are stale: a row found unchanged by them is refused.
    let stale = run(
        &mut store,
        vec![ImportRow::Unchanged { line: 2, person: m1 }],
        &held.at,
    );
    assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");
    // So are rows read in full then: they may keep contact details read before that import.
    let stale = run(
        &mut store,
        vec![ImportRow::Person(with_digest("M9", 9))],
        &held.at,
    );
    assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");
    assert!(store.person_by_ref("M9").unwrap().is_none());
    // Nothing changed at all: the generation stays, so an index built for it stays good.
    let counts = run(
        &mut store,
        vec![ImportRow::Unchanged { line: 2, person: m1 }],
        &now.at,
    )
    .unwrap();
    assert_eq!((counts.inserted, counts.updated, counts.unchanged), (0, 0, 1));
    assert_eq!(store.source_digests().unwrap().at, now.at);
    // The same person twice is refused, found unchanged first or read in full first.
    for rows in [
        vec![
            ImportRow::Unchanged { line: 2, person: m1 },
            ImportRow::Person(NewPerson {
                line: 3,
                ..with_digest("M1", 9)
            }),
        ],
        vec![
            ImportRow::Person(with_digest("M1", 9)),
            ImportRow::Unchanged { line: 3, person: m1 },
        ],
        vec![
            ImportRow::Unchanged { line: 2, person: m1 },
            ImportRow::Unchanged { line: 3, person: m1 },
        ],
    ] {
        let twice = run(&mut store, rows, &now.at);
        assert!(
            matches!(&twice, Err(Error::DuplicateReference { reference, line: 3 }) if reference == "M1"),
            "{twice:?}"
        );
    }
    assert_eq!(
        store.person_by_ref("M1").unwrap().unwrap().category,
        PersonCategory::Member,
        "a refused import changes nothing"
    );
}

fn a_different_key_is_refused(kind: Kind) {
    let (fixture, mut store) = store(kind);
    store.check_key("aaaa").unwrap();
    store.check_key("aaaa").unwrap();
    drop(store);
    let mut reopened = fixture.open();
    assert!(matches!(reopened.check_key("bbbb"), Err(Error::Incompatible(_))));
}

fn feeds_select_by_category_and_dates(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    import(
        &mut store,
        vec![
            person("A", PersonCategory::Member, Some("2010-01-01"), None),
            person(
                "B",
                PersonCategory::Member,
                Some("2010-01-01"),
                Some("2015-01-01"),
            ),
            person("C", PersonCategory::Member, Some("2022-01-01"), None),
            person("D", PersonCategory::Donor, None, None),
            person(
                "E",
                PersonCategory::Member,
                Some("2010-01-01"),
                Some("2019-01-01"),
            ),
        ],
    )
    .unwrap();
    let window = FeedWindow {
        joined_by: parse_day("2021-10-29").unwrap(),
        not_left_before: parse_day("2016-04-01").unwrap(),
    };
    let members = store.feed_people(&[PersonCategory::Member], window).unwrap();
    let refs = store.references(&members).unwrap();
    assert_eq!(refs, ["A", "E"]);
    let both = store
        .feed_people(&[PersonCategory::Member, PersonCategory::Donor], window)
        .unwrap();
    assert_eq!(store.references(&both).unwrap(), ["A", "D", "E"]);
}

fn audit_entries_chain_to_each_other(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    supplier(&mut store, "A");
    supplier(&mut store, "B");
    let mut entries = Vec::new();
    store
        .audit_entries(&mut |entry| {
            entries.push(entry);
            Ok(())
        })
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].prev, "");
    assert_eq!(entries[1].prev, entries[0].hash);
    assert_eq!(entries[1].subject, "supplier:2");
    let taken = store.add_supplier(
        NewSupplier {
            name: "a".into(),
            role: SupplierRole::Processor,
            parent: None,
            notice_hours: None,
            contract: None,
            contact: None,
            created_at: at("2020-01-01"),
            country: None,
            transfer_safeguard: None,
        },
        draft("supplier.add"),
        &TestSigner,
    );
    assert!(
        matches!(taken, Err(Error::Conflict(_))),
        "names are unique without regard to case"
    );
}

/// A supplier's contacts: kept in the order added, one per address whatever its case, removed
/// by address; another supplier's are its own.
fn supplier_contacts_are_kept_per_supplier(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    let first = supplier(&mut store, "A");
    let second = supplier(&mut store, "B");
    let contact = |supplier, email: &str, role| custody_store::SupplierContact {
        supplier,
        name: "Sam Lee".into(),
        email: email.into(),
        role,
        added_at: at("2021-01-01"),
    };
    let add = |store: &mut Boxed, contact| {
        store.add_supplier_contact(contact, draft("supplier.contact.add"), &TestSigner)
    };
    add(
        &mut store,
        contact(first, "security@a.example", ContactRole::Security),
    )
    .unwrap();
    add(&mut store, contact(first, "dpo@a.example", ContactRole::Dpo)).unwrap();
    add(
        &mut store,
        contact(second, "security@a.example", ContactRole::Account),
    )
    .unwrap();
    let again = add(
        &mut store,
        contact(first, "SECURITY@a.example", ContactRole::Account),
    );
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    let nowhere = add(
        &mut store,
        contact(SupplierId::new(99), "x@a.example", ContactRole::Dpo),
    );
    assert!(matches!(nowhere, Err(Error::NotFound(_))), "{nowhere:?}");
    let emails = |store: &Boxed, supplier| -> Vec<(String, ContactRole)> {
        store
            .supplier_contacts(supplier)
            .unwrap()
            .into_iter()
            .map(|contact| (contact.email, contact.role))
            .collect()
    };
    assert_eq!(
        emails(&store, first),
        [
            ("security@a.example".to_owned(), ContactRole::Security),
            ("dpo@a.example".to_owned(), ContactRole::Dpo)
        ]
    );
    store
        .remove_supplier_contact(
            first,
            "Security@A.example",
            draft("supplier.contact.remove"),
            &TestSigner,
        )
        .unwrap();
    assert_eq!(
        emails(&store, first),
        [("dpo@a.example".to_owned(), ContactRole::Dpo)]
    );
    assert_eq!(
        emails(&store, second).len(),
        1,
        "the other supplier's contact stays"
    );
    let gone = store.remove_supplier_contact(
        first,
        "security@a.example",
        draft("supplier.contact.remove"),
        &TestSigner,
    );
    assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");
    let mut actions = Vec::new();
    store
        .audit_entries(&mut |entry| {
            actions.push(entry.action);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        actions
            .iter()
            .filter(|action| action.starts_with("supplier.contact"))
            .count(),
        4,
        "each change audited, refusals not: {actions:?}"
    );
}

/// A supplier's account and token keep the supplier they are bound to; the store itself refuses
/// a supplier's without one and a staff account with one.
fn supplier_accounts_are_bound_to_their_supplier(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    let bound = supplier(&mut store, "A");
    let account = |name: &str, role, supplier| custody_store::NewAccount {
        name: name.into(),
        role,
        password_hash: "$argon2id$stand-in".into(),
        supplier,
        created_at: at("2021-01-01"),
    };
    store
        .add_account(
            account("sam", DeskRole::Supplier, Some(bound)),
            draft("account.add"),
            &TestSigner,
        )
        .unwrap();
    assert_eq!(store.account_named("SAM").unwrap().unwrap().supplier, Some(bound));
    assert!(
        store
            .add_account(
                account("lone", DeskRole::Supplier, None),
                draft("account.add"),
                &TestSigner
            )
            .is_err()
    );
    assert!(
        store
            .add_account(
                account("lead", DeskRole::Viewer, Some(bound)),
                draft("account.add"),
                &TestSigner
            )
            .is_err()
    );
    let token = custody_store::NewApiToken {
        name: "t".into(),
        role: DeskRole::Supplier,
        token_hash: vec![7; 16],
        supplier: Some(bound),
        created_at: at("2021-01-01"),
    };
    store
        .add_api_token(token, draft("token.add"), &TestSigner)
        .unwrap();
    let found = store.api_token_by_hash(&[7; 16]).unwrap().unwrap();
    assert_eq!((found.role, found.supplier), (DeskRole::Supplier, Some(bound)));
}

/// Names fold the case of ASCII letters only, and sort alike, on every backend (PostgreSQL's
/// own folding follows the database's locale, which would make "Öresund" and "öresund" one).
fn names_fold_ascii_case_only_and_sort_alike(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    for name in ["zeta", "Öresund AB", "B", "öresund ab", "a"] {
        supplier(&mut store, name);
    }
    let names: Vec<String> = store
        .suppliers()
        .unwrap()
        .into_iter()
        .map(|supplier| supplier.name)
        .collect();
    assert_eq!(names, ["a", "B", "zeta", "Öresund AB", "öresund ab"]);
    let found = store
        .supplier_by_name("öRESUND AB")
        .unwrap()
        .map(|supplier| supplier.name);
    assert_eq!(found.as_deref(), Some("öresund ab"));
    assert!(store.supplier_by_name("ÖRESUND AB").unwrap().is_some());
    assert!(store.supplier_by_name("oresund ab").unwrap().is_none());
}

fn an_update_replaces_identifiers_and_contact_only_when_they_change(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    let mut first = person("M1", PersonCategory::Member, None, None);
    first.identifiers = vec![
        (IdentifierKind::EmailStrict, [21; 16]),
        (IdentifierKind::Phone, [22; 16]),
    ];
    first.contact = Some(vec![9; 40]);
    first.contact_digest = Some([7; 16]);
    import(&mut store, vec![first.clone()]).unwrap();
    import(&mut store, vec![person("M2", PersonCategory::Member, None, None)]).unwrap();

    // The same details again: the sealed contact stays as it was although a new one is offered.
    let mut same = first.clone();
    same.contact = Some(vec![8; 40]);
    import(&mut store, vec![same]).unwrap();
    assert_eq!(
        store.person_by_ref("M1").unwrap().unwrap().contact,
        Some(vec![9; 40])
    );

    // A new email: the old hash no longer finds the person, the new one does; the phone stays.
    let mut moved = first.clone();
    moved.identifiers = vec![
        (IdentifierKind::EmailStrict, [23; 16]),
        (IdentifierKind::Phone, [22; 16]),
    ];
    moved.contact = Some(vec![6; 40]);
    moved.contact_digest = Some([5; 16]);
    import(&mut store, vec![moved]).unwrap();
    let id = store.person_id_by_ref("M1").unwrap().unwrap();
    assert!(
        store
            .people_by_identifier(IdentifierKind::EmailStrict, &[21; 16])
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .people_by_identifier(IdentifierKind::EmailStrict, &[23; 16])
            .unwrap(),
        vec![id]
    );
    assert_eq!(
        store
            .people_by_identifier(IdentifierKind::Phone, &[22; 16])
            .unwrap(),
        vec![id]
    );
    assert_eq!(
        store.person_by_ref("M1").unwrap().unwrap().contact,
        Some(vec![6; 40])
    );
}

fn contacts_are_read_for_everyone_or_for_a_set(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    let people: Vec<NewPerson> = (1..=300u16)
        .map(|number| {
            let mut one = person(&format!("M{number}"), PersonCategory::Member, None, None);
            one.identifiers = vec![(IdentifierKind::EmailStrict, [(number % 250) as u8; 16])];
            // Every seventh person has no contact details.
            if number % 7 != 0 {
                one.contact = Some(number.to_le_bytes().to_vec());
            }
            one
        })
        .collect();
    import(&mut store, people).unwrap();
    // Persons M7 and M140 have no contact details: M7 is within a stretch's gap of M1, M140
    // is more than a stretch's gap (12) from anyone else in `few`, so it is read alone.
    let without = store.person_by_ref("M7").unwrap().unwrap().id;
    let alone = store.person_by_ref("M140").unwrap().unwrap().id;
    let read = |only: Option<&PersonSet>| {
        let mut seen = Vec::new();
        store
            .each_contact(only, &mut |id, reference, sealed| {
                seen.push((id, reference.to_owned(), sealed.to_vec()));
                Ok(())
            })
            .unwrap();
        seen
    };
    let everyone = read(None);
    assert_eq!(everyone.len(), 300 - 42, "those without details are left out");
    assert!(
        everyone.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "in id order"
    );
    for (_, reference, sealed) in &everyone {
        let number: u16 = reference[1..].parse().unwrap();
        assert_eq!(sealed, &number.to_le_bytes().to_vec(), "{reference}");
    }
    // A few spread over the ids (read one by one) and a dense run (read by a scan) give the
    // same as everyone's read filtered; an id no one has, or one without details, gives nothing.
    let ids: Vec<PersonId> = everyone.iter().map(|(id, ..)| *id).collect();
    let few: PersonSet = [ids[0], ids[100], ids[250], alone, 99_999].into_iter().collect();
    let dense: PersonSet = ids[10..200].iter().copied().collect();
    // Stretches and people alone in one set: close ids read by scans, the rest one by one.
    let mut mixed: PersonSet = ids[20..40].iter().copied().collect();
    mixed.extend(ids[100..103].iter().copied());
    mixed.extend([ids[150], ids[0] + 1_000, without - 1, without, without + 1]);
    mixed.extend(ids[200..].iter().step_by(5).copied());
    assert!(
        few.iter()
            .filter(|id| *id != alone)
            .all(|id| id.abs_diff(alone) > 12),
        "M140 is alone in `few`"
    );
    for set in [few, dense, mixed] {
        let expected: Vec<_> = everyone
            .iter()
            .filter(|(id, ..)| set.contains(*id))
            .cloned()
            .collect();
        assert_eq!(read(Some(&set)), expected);
    }
    assert!(read(Some(&PersonSet::new())).is_empty());
}

fn incident_events_are_append_only(kind: Kind) {
    let (fixture, mut store) = store(kind);
    let supplier_id = supplier(&mut store, "A");
    let incident = custody_store::NewIncident {
        supplier_id: Some(supplier_id),
        summary: "ransomware".into(),
        nature: vec![custody_core::Nature::Availability],
        aware_at: at("2021-10-29 18:30"),
        occurred_from: None,
        occurred_to: None,
        supplier_discovered_at: None,
        supplier_notified_at: None,
        cyber: Some(true),
        opened_at: at("2021-10-29 19:00"),
    };
    let id = store
        .open_incident(incident, draft("incident.open"), &TestSigner)
        .unwrap();
    let event = custody_store::NewIncidentEvent {
        kind: "note".into(),
        at: at("2021-10-29 19:05"),
        actor: "test".into(),
        recorded_at: at("2021-10-29 19:05"),
        body: serde_json::json!({ "text": "called the supplier" }),
    };
    store
        .append_incident_event(id, event.clone(), draft("incident.timeline"), &TestSigner)
        .unwrap();
    let missing = store.append_incident_event(
        IncidentId::new(id.get() + 1),
        event,
        draft("incident.timeline"),
        &TestSigner,
    );
    assert!(matches!(missing, Err(Error::NotFound(_))));
    let events = store.incident_events(id).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body["text"], "called the supplier");
    let stored = store.incident(id).unwrap().unwrap();
    assert_eq!(
        (stored.supplier.as_deref(), stored.facts.cyber),
        (Some("A"), Some(true))
    );
    drop(store);
    assert!(fixture.raw("UPDATE incident_events SET body = '{}'").is_err());
    assert!(fixture.raw("DELETE FROM incident_events").is_err());
}

fn requests_events_and_erasures_are_append_only_and_erasures_unique(kind: Kind) {
    let (fixture, mut store) = store(kind);
    let supplier_id = supplier(&mut store, "A");
    import(
        &mut store,
        vec![person("P1", PersonCategory::Member, Some("2010-01-01"), None)],
    )
    .unwrap();
    let person_id = store.person_id_by_ref("P1").unwrap().unwrap();
    let event = |kind: &str| custody_store::NewRequestEvent {
        kind: kind.into(),
        at: at("2025-01-02 10:00"),
        actor: "test".into(),
        recorded_at: at("2025-01-02 10:00"),
        body: serde_json::json!({ "supplier_id": supplier_id }),
    };
    let request = custody_store::NewRequest {
        person: Some(person_id),
        requester: None,
        requester_hash: Some([7; 16]),
        kind: custody_core::RequestKind::Erasure,
        channel: Some(custody_core::Channel::Post),
        received_at: at("2025-01-01 09:00"),
        opened_at: at("2025-01-01 09:30"),
        source: None,
        events: vec![event("instruct")],
    };
    let ids = store
        .open_requests(
            vec![request.clone(), request],
            draft("request.import"),
            &TestSigner,
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    let stored = store.request(ids[0]).unwrap().unwrap();
    assert_eq!(stored.facts.requester_hash, Some([7; 16]));
    assert_eq!(stored.facts.channel, Some(custody_core::Channel::Post));
    assert_eq!(store.request_events(ids[1]).unwrap().len(), 1);
    let erasure = custody_store::Erasure {
        supplier_id,
        person: person_id,
        request: ids[0],
        deleted_at: at("2025-01-02 10:00"),
        backups_until: Some(at("2025-02-01 10:00")),
    };
    let confirm = |store: &mut Boxed, erasure: custody_store::Erasure| {
        store.append_request_events(
            erasure.request,
            vec![event("confirm")],
            Some(erasure),
            draft("request.confirm"),
            &TestSigner,
        )
    };
    confirm(&mut store, erasure).unwrap();
    assert!(matches!(confirm(&mut store, erasure), Err(Error::Conflict(_))));
    assert_eq!(
        store.request_events(ids[0]).unwrap().len(),
        2,
        "the refused event was rolled back"
    );
    let second = custody_store::Erasure {
        request: ids[1],
        ..erasure
    };
    confirm(&mut store, second).unwrap();
    assert_eq!(
        store.erasures_at_supplier(supplier_id).unwrap(),
        vec![erasure, second]
    );
    assert_eq!(
        store.erasures_of_person(person_id).unwrap(),
        vec![erasure, second]
    );
    // The erasure takes the person out of shares sent before it, once backups expire.
    assert!(
        !erasure.removes(at("2024-01-01 00:00"), at("2025-01-03 00:00")),
        "backups still hold it"
    );
    assert!(erasure.removes(at("2024-01-01 00:00"), at("2025-02-02 00:00")));
    assert!(
        !erasure.removes(at("2025-01-05 00:00"), at("2025-03-01 00:00")),
        "a later share"
    );
    drop(store);
    assert!(fixture.raw("UPDATE request_events SET body = '{}'").is_err());
    assert!(fixture.raw("DELETE FROM request_events").is_err());
    assert!(fixture.raw("UPDATE erasures SET deleted_at = 0").is_err());
    assert!(fixture.raw("DELETE FROM erasures").is_err());
}

#[test]
fn delivery_answers_survive_a_killed_run_through_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let mut store: Boxed = Box::new(SqliteStore::open(&dir.path().join("custody.db"), true).unwrap());
    let supplier_id = supplier(&mut store, "A");
    import(
        &mut store,
        vec![person("P1", PersonCategory::Member, Some("2010-01-01"), None)],
    )
    .unwrap();
    let person_id = store.person_id_by_ref("P1").unwrap().unwrap();
    let incident = store
        .open_incident(
            confidentiality_incident(supplier_id),
            draft("incident.open"),
            &TestSigner,
        )
        .unwrap();
    let messages = (0..3_u8).map(|n| custody_store::NewOutboxMessage {
        address_hash: [n; 16],
        recipient: vec![n],
        people: vec![person_id],
        message_id: format!("<{n}@test>"),
    });
    let counts = store
        .enqueue_notices(
            incident,
            &mut messages.collect::<Vec<_>>().into_iter(),
            &[],
            at("2021-10-30 09:00"),
            draft("notice.queue"),
            &TestSigner,
        )
        .unwrap();
    assert_eq!(counts.added, 3);
    store.set_relaxed_durability(true).unwrap();
    let claimed = store
        .claim_notices(incident, EventId::new(1), at("2021-10-30 09:00"), 10, false)
        .unwrap();
    assert_eq!(claimed.len(), 3);
    let sent = custody_store::OutboxUpdate::Sent(at("2021-10-30 09:01"), "250 ok".into());
    store
        .record_deliveries(EventId::new(1), &[(claimed[0].id, sent.clone())])
        .unwrap();

    // Another process opening the store meanwhile leaves the live journal alone.
    let other = SqliteStore::open(&dir.path().join("custody.db"), false).unwrap();
    let states: std::collections::BTreeMap<_, _> =
        other.outbox_counts(incident).unwrap().into_iter().collect();
    assert_eq!(
        states.get(&custody_store::OutboxState::Sending),
        Some(&3),
        "not applied by the other: {states:?}"
    );
    drop(other);
    store
        .record_deliveries(EventId::new(1), &[(claimed[1].id, sent)])
        .unwrap();
    // Killed: the answers are in the journal only; the table still says sending.
    drop(store); // no flush on drop: as after a kill, the lock goes with the file handle
    let reopened = SqliteStore::open(&dir.path().join("custody.db"), false).unwrap();
    let states: std::collections::BTreeMap<_, _> =
        reopened.outbox_counts(incident).unwrap().into_iter().collect();
    assert_eq!(
        states.get(&custody_store::OutboxState::Sent),
        Some(&2),
        "{states:?}"
    );
    assert_eq!(
        states.get(&custody_store::OutboxState::Sending),
        Some(&1),
        "{states:?}"
    );
    let again = SqliteStore::open(&dir.path().join("custody.db"), false).unwrap();
    let states: std::collections::BTreeMap<_, _> =
        again.outbox_counts(incident).unwrap().into_iter().collect();
    assert_eq!(
        states.get(&custody_store::OutboxState::Sent),
        Some(&2),
        "applying twice changes nothing"
    );
}

#[test]
fn a_version_1_database_is_migrated_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custody.db");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(include_str!("../../src/sqlite/schema.sql"))
            .unwrap();
        raw.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')", [])
            .unwrap();
    }
    let store = SqliteStore::open(&path, false).unwrap();
    assert!(
        store.incidents().unwrap().is_empty(),
        "version 2 added the incidents"
    );
    assert!(
        store.requests().unwrap().is_empty(),
        "version 3 added the requests"
    );
    drop(store);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", [])
        .unwrap();
    assert!(matches!(
        SqliteStore::open(&path, false),
        Err(Error::Incompatible(_))
    ));
}

/// A new ledger has 16 KiB pages; one made with SQLite's default 4 KiB keeps them and works as
/// before, its durability relaxed and restored too.
#[test]
fn a_new_database_has_large_pages_and_an_old_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let pragma = |path: &std::path::Path, name: &str| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .unwrap()
    };
    let new = dir.path().join("new.db");
    drop(SqliteStore::open(&new, true).unwrap());
    assert_eq!(pragma(&new, "page_size"), 16_384);
    let old = dir.path().join("old.db");
    {
        let raw = rusqlite::Connection::open(&old).unwrap();
        raw.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;")
            .unwrap();
        raw.execute_batch(include_str!("../../src/sqlite/schema.sql"))
            .unwrap();
        raw.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')", [])
            .unwrap();
    }
    for (path, page) in [(&new, 16_384), (&old, 4_096)] {
        // A thread each: the test signer's record of the chain's end is the thread's.
        std::thread::scope(|scope| scope.spawn(|| use_store(path)).join().unwrap());
        assert_eq!(pragma(path, "page_size"), page);
    }
}

/// Imports into the store at `path`, relaxes its durability, imports again and restores it.
fn use_store(path: &std::path::Path) {
    {
        let mut store: Boxed = Box::new(SqliteStore::open(path, true).unwrap());
        import(&mut store, vec![person("A", PersonCategory::Member, None, None)]).unwrap();
        assert_eq!(store.category_people(PersonCategory::Member).unwrap().len(), 1);
        store.set_relaxed_durability(true).unwrap();
        import(&mut store, vec![person("B", PersonCategory::Member, None, None)]).unwrap();
        store.set_relaxed_durability(false).unwrap();
        assert_eq!(store.category_people(PersonCategory::Member).unwrap().len(), 2);
    }
}

fn a_read_snapshot_does_not_see_a_write_made_meanwhile(kind: Kind) {
    let (fixture, mut writer) = store(kind);
    import(&mut writer, vec![person("A", PersonCategory::Member, None, None)]).unwrap();
    let reader = fixture.open();
    {
        let _snapshot = reader.read_snapshot().unwrap();
        assert_eq!(reader.category_people(PersonCategory::Member).unwrap().len(), 1);
        import(&mut writer, vec![person("B", PersonCategory::Member, None, None)]).unwrap();
        assert_eq!(
            reader.category_people(PersonCategory::Member).unwrap().len(),
            1,
            "same state throughout"
        );
        let nested = reader.read_snapshot().unwrap();
        assert_eq!(reader.category_people(PersonCategory::Member).unwrap().len(), 1);
        drop(nested);
    }
    assert_eq!(
        reader.category_people(PersonCategory::Member).unwrap().len(),
        2,
        "the next read sees the write"
    );
}

fn an_append_after_the_newest_entries_were_deleted_is_refused_and_writes_nothing(kind: Kind) {
    let (fixture, mut store) = store(kind);
    for name in ["A", "B", "C"] {
        supplier(&mut store, name);
        store.settle_audit(&TestSigner).unwrap();
    }
    // An insider deletes the newest two entries with a tool of their own: on PostgreSQL the
    // table refuses it, so they turn its triggers off first, as its owner can.
    if matches!(kind, Kind::Postgres) {
        assert!(fixture.raw("DELETE FROM audit WHERE seq >= 2").is_err());
        fixture
            .raw("SET session_replication_role = replica; DELETE FROM audit WHERE seq >= 2")
            .unwrap();
    } else {
        fixture.raw("DELETE FROM audit WHERE seq >= 2").unwrap();
    }
    let refused = store.add_supplier(
        NewSupplier {
            name: "D".into(),
            role: SupplierRole::Processor,
            parent: None,
            notice_hours: None,
            contract: None,
            contact: None,
            created_at: at("2020-01-01"),
            country: None,
            transfer_safeguard: None,
        },
        draft("supplier.add"),
        &TestSigner,
    );
    assert!(matches!(refused, Err(Error::AuditChain(_))), "{refused:?}");
    assert!(
        store.supplier_by_name("D").unwrap().is_none(),
        "the change rolled back"
    );
    assert_eq!(
        store.audit_head().unwrap().unwrap().seq,
        1,
        "the short chain was not extended"
    );
}

/// A signer whose record of the chain's end is shared by every thread, as `audit.head` is shared
/// by every process of a data directory.
#[derive(Default)]
struct SharedSigner {
    end: std::sync::Mutex<EndRecord>,
}

impl AuditSigner for SharedSigner {
    fn chain_hash(&self, previous: &[u8], entry: &[u8]) -> [u8; 32] {
        TestSigner.chain_hash(previous, entry)
    }

    fn check_end(&self, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        let (committed, pending) = &*self.end.lock().unwrap();
        let newest = owned(newest);
        if newest == *committed || (pending.is_some() && newest == *pending) {
            Ok(())
        } else {
            Err(format!("the store ends at {newest:?}"))
        }
    }

    fn stage(&self, newest: Option<ChainEnd<'_>>, entry: ChainEnd<'_>) -> Result<(), String> {
        *self.end.lock().unwrap() = (owned(newest), owned(Some(entry)));
        Ok(())
    }

    fn settle(&self, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        let mut end = self.end.lock().unwrap();
        if end.1.is_some() && owned(newest) == end.1 {
            *end = (owned(newest), None);
        }
        Ok(())
    }

    fn check_kept(&self, kept: Option<&str>, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        TestSigner.check_kept(kept, newest)
    }

    fn seal_end(&self, end: Option<ChainEnd<'_>>) -> Result<String, String> {
        TestSigner.seal_end(end)
    }
}

/// Two writers on two connections append at once: every append succeeds, in one unbroken chain.
fn concurrent_writers_keep_one_chain(kind: Kind) {
    let fixture = Fixture::new(kind);
    drop(fixture.open());
    let signer = SharedSigner::default();
    const EACH: usize = 40;
    std::thread::scope(|scope| {
        for writer in 0..2 {
            let (fixture, signer) = (&fixture, &signer);
            scope.spawn(move || {
                let mut store = fixture.open();
                for n in 0..EACH {
                    let mut entry = draft("test.write");
                    entry.details = serde_json::json!({ "writer": writer, "n": n });
                    store.append_audit(entry, signer).unwrap();
                    store.settle_audit(signer).unwrap();
                }
            });
        }
    });
    let store = fixture.open();
    let mut entries = Vec::new();
    store
        .audit_entries(&mut |entry| {
            entries.push(entry);
            Ok(())
        })
        .unwrap();
    assert_eq!(entries.len(), 2 * EACH, "every append landed");
    let mut previous = String::new();
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(entry.seq, index as i64 + 1, "no gap and no fork");
        assert_eq!(
            entry.prev, previous,
            "entry {} links to the one before",
            entry.seq
        );
        let bytes = custody_store::AuditEntry::canonical_bytes(
            entry.seq,
            entry.at,
            &entry.actor,
            &entry.action,
            &entry.subject,
            &entry.details,
        );
        let prev: Vec<u8> = (0..previous.len() / 2)
            .map(|i| u8::from_str_radix(&previous[i * 2..i * 2 + 2], 16).unwrap())
            .collect();
        let hash: String = TestSigner
            .chain_hash(&prev, &bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(
            entry.hash, hash,
            "entry {} is signed over its predecessor",
            entry.seq
        );
        previous = entry.hash.clone();
    }
}

/// Queues three notices and records answers through the contract, run by run.
fn notices_are_queued_claimed_and_answered(kind: Kind) {
    let (_fixture, mut store) = store(kind);
    let incident = incident_with_notices(&mut store, 3);
    let claimed = store
        .claim_notices(incident, EventId::new(1), at("2021-10-30 09:00"), 2, false)
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let sent = custody_store::OutboxUpdate::Sent(at("2021-10-30 09:01"), "250 ok".into());
    let failed = custody_store::OutboxUpdate::Failed("550 no such user".into());
    store
        .record_deliveries(EventId::new(1), &[(claimed[0].id, sent), (claimed[1].id, failed)])
        .unwrap();
    store.flush_deliveries().unwrap();
    let rest = store
        .claim_notices(incident, EventId::new(1), at("2021-10-30 09:02"), 10, false)
        .unwrap();
    assert_eq!(
        rest.len(),
        1,
        "the queued one; the failed one waits to be asked for"
    );
    let again = store
        .claim_notices(incident, EventId::new(2), at("2021-10-30 10:00"), 10, true)
        .unwrap();
    assert_eq!(
        again.iter().map(|message| message.id).collect::<Vec<_>>(),
        vec![claimed[1].id, rest[0].id],
        "a new run retries the failed one and takes over the one left sending"
    );
    let states: std::collections::BTreeMap<_, _> =
        store.outbox_counts(incident).unwrap().into_iter().collect();
    assert_eq!(states.get(&custody_store::OutboxState::Sent), Some(&1));
    assert_eq!(states.get(&custody_store::OutboxState::Sending), Some(&2));
    let (_, last_sent) = store.outbox_times(incident).unwrap();
    assert_eq!(last_sent, Some(at("2021-10-30 09:01")));
}

/// An incident with `count` queued notices, one person each.
fn incident_with_notices(store: &mut Boxed, count: u8) -> IncidentId {
    let supplier_id = supplier(store, "A");
    let people: Vec<NewPerson> = (0..count)
        .map(|n| person(&format!("P{n}"), PersonCategory::Member, None, None))
        .collect();
    import(store, people).unwrap();
    let incident = store
        .open_incident(
            confidentiality_incident(supplier_id),
            draft("incident.open"),
            &TestSigner,
        )
        .unwrap();
    let mut messages = (0..count).map(|n| custody_store::NewOutboxMessage {
        address_hash: [n; 16],
        recipient: vec![n],
        people: vec![u32::from(n) + 1],
        message_id: format!("<{n}@test>"),
    });
    let counts = store
        .enqueue_notices(
            incident,
            &mut messages,
            &[],
            at("2021-10-30 09:00"),
            draft("notice.queue"),
            &TestSigner,
        )
        .unwrap();
    assert_eq!(counts.added, u64::from(count));
    incident
}

/// Names a database's own case folding kept apart but ASCII's folds together (as a Turkish
/// locale's dotless ı can) stop the move to schema version 3 with the names, not an index error.
#[test]
fn postgres_names_that_would_clash_are_named_before_schema_version_3() {
    // A database as schema version 2 left it, whose locale kept the two names apart (its unique
    // index stands in as a plain one here).
    let fixture = Fixture::new(Kind::Postgres);
    fixture
        .raw(concat!(
            include_str!("../../src/postgres/schema.sql"),
            include_str!("../../src/postgres/share_chunks_append_only.sql")
        ))
        .unwrap();
    fixture
        .raw(
            "INSERT INTO meta (key, value) VALUES ('schema_version', '2'); \
             DROP INDEX suppliers_name; CREATE INDEX suppliers_name ON suppliers (name); \
             INSERT INTO suppliers (name, role, created_at) VALUES ('Info Ltd', 'processor', 0), ('INFO LTD', 'processor', 0)",
        )
        .unwrap();
    let Fixture::Postgres { url, .. } = &fixture else {
        unreachable!()
    };
    let refused = PostgresStore::open(url)
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(refused.contains("suppliers: INFO LTD, Info Ltd"), "{refused}");
    fixture
        .raw("DELETE FROM suppliers WHERE name = 'INFO LTD'")
        .unwrap();
    PostgresStore::open(url).unwrap();
}

/// A use case holding the writer's lock (a desk checking a request is open before it closes
/// it) keeps another process's audited write out until it lets go, and writes itself meanwhile.
#[test]
fn postgres_held_writes_keep_other_writers_out_until_released() {
    let fixture = Fixture::new(Kind::Postgres);
    let mut holder = fixture.open();
    let signer = SharedSigner::default();
    holder.hold_writes().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let (fixture, signer) = (&fixture, &signer);
        scope.spawn(move || {
            let mut other = fixture.open();
            other.append_audit(draft("other.write"), signer).unwrap();
            done_tx.send(()).unwrap();
        });
        assert!(
            done_rx
                .recv_timeout(std::time::Duration::from_millis(500))
                .is_err(),
            "the other process wrote while the lock was held"
        );
        holder.append_audit(draft("holder.write"), signer).unwrap();
        holder.release_writes().unwrap();
        done_rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    });
    let mut actions = Vec::new();
    holder
        .audit_entries(&mut |entry| {
            actions.push(entry.action);
            Ok(())
        })
        .unwrap();
    assert_eq!(actions, ["holder.write", "other.write"]);
}

/// Two workers on two connections claim from one outbox: no message goes to both, and a run
/// whose connection has gone leaves its messages to the other.
#[test]
fn postgres_workers_never_claim_the_same_notice() {
    let fixture = Fixture::new(Kind::Postgres);
    let mut first = fixture.open();
    let incident = incident_with_notices(&mut first, 30);
    let mut second = fixture.open();
    let now = at("2021-10-30 09:00");
    let mine = first
        .claim_notices(incident, EventId::new(101), now, 10, false)
        .unwrap();
    let theirs = second
        .claim_notices(incident, EventId::new(102), now, 100, false)
        .unwrap();
    assert_eq!(
        (mine.len(), theirs.len()),
        (10, 20),
        "a live run's messages stay its own"
    );
    let mine_ids: std::collections::BTreeSet<MessageId> = mine.iter().map(|message| message.id).collect();
    assert!(theirs.iter().all(|message| !mine_ids.contains(&message.id)));
    // Both claim at once, many times: still no message twice.
    let mut third = fixture.open();
    let fourth_incident = incident_with_more(&mut third, incident, 200);
    let claims: Vec<Vec<MessageId>> = std::thread::scope(|scope| {
        let handles: Vec<_> = [EventId::new(201), EventId::new(202)]
            .into_iter()
            .map(|run| {
                let fixture = &fixture;
                scope.spawn(move || {
                    let mut store = fixture.open();
                    let mut ids = Vec::new();
                    loop {
                        let batch = store.claim_notices(fourth_incident, run, now, 7, false).unwrap();
                        if batch.is_empty() {
                            return ids;
                        }
                        ids.extend(batch.iter().map(|message| message.id));
                        // As a run does: each claimed message gets the server's answer.
                        let sent = custody_store::OutboxUpdate::Sent(now, "250 ok".into());
                        let answers: Vec<_> =
                            batch.iter().map(|message| (message.id, sent.clone())).collect();
                        store.record_deliveries(run, &answers).unwrap();
                    }
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    let all: Vec<MessageId> = claims.concat();
    let distinct: std::collections::BTreeSet<MessageId> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a message was claimed twice");
    assert_eq!(distinct.len(), 200, "every message was claimed");
    // The first run's process ends: its ten messages left `sending` go to the next claim.
    drop(first);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let taken = second
            .claim_notices(incident, EventId::new(102), now, 100, false)
            .unwrap();
        if !taken.is_empty() {
            let ids: std::collections::BTreeSet<MessageId> = taken.iter().map(|message| message.id).collect();
            assert_eq!(ids, mine_ids);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the ended run's messages were never taken over"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Another incident on the same people, with `count` notices.
fn incident_with_more(store: &mut Boxed, like: IncidentId, count: u16) -> IncidentId {
    let facts = store.incident(like).unwrap().unwrap().facts;
    let incident = store
        .open_incident(facts, draft("incident.open"), &TestSigner)
        .unwrap();
    let mut messages = (0..count).map(|n| custody_store::NewOutboxMessage {
        address_hash: [
            (n % 251) as u8,
            (n / 251) as u8,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            9,
            10,
            11,
            12,
            13,
            14,
        ],
        recipient: vec![1],
        people: vec![1],
        message_id: format!("<more-{n}@test>"),
    });
    store
        .enqueue_notices(
            incident,
            &mut messages,
            &[],
            at("2021-10-30 09:00"),
            draft("notice.queue"),
            &TestSigner,
        )
        .unwrap();
    incident
}

/// TLS to PostgreSQL as libpq's `sslmode` says: the server here refuses plain TCP, so every
/// connection that succeeds is encrypted; `verify-full` checks the authority and the name,
/// `verify-ca` the authority only, and `require` without an authority neither.
#[test]
fn postgres_connections_are_encrypted_and_checked_as_sslmode_says() {
    let tls = custody_testdb::tls_server();
    let name = tls.server.create_database("tls");
    let port = tls.server.port;
    let url = |host: &str, query: String| {
        format!(
            "postgresql://{}@{host}:{port}/{name}?{query}",
            custody_testdb::USER
        )
    };
    let authority = tls.authority.display().to_string();
    let stranger = tls.stranger.display().to_string();
    let open = |url: String| {
        custody_store::PostgresStore::open(&url)
            .map(|_| ())
            .map_err(|error| error.to_string())
    };

    open(url(
        "127.0.0.1",
        format!("sslmode=verify-full&sslrootcert={authority}"),
    ))
    .unwrap();
    open(url(
        "127.0.0.1",
        format!("sslmode=verify-ca&sslrootcert={authority}"),
    ))
    .unwrap();
    open(url("127.0.0.1", "sslmode=require".into())).unwrap();
    open(url("127.0.0.1", String::new())).unwrap();
    // The certificate names 127.0.0.1 only: by another name, only verify-ca accepts it.
    open(url(
        "localhost",
        format!("sslmode=verify-ca&sslrootcert={authority}"),
    ))
    .unwrap();
    let wrong_name = open(url(
        "localhost",
        format!("sslmode=verify-full&sslrootcert={authority}"),
    ))
    .unwrap_err();
    assert!(wrong_name.contains("certificate"), "{wrong_name}");
    // Signed by an authority the URL does not trust: refused, with require too.
    for mode in ["verify-full", "verify-ca", "require"] {
        let refused = open(url("127.0.0.1", format!("sslmode={mode}&sslrootcert={stranger}"))).unwrap_err();
        assert!(refused.contains("certificate"), "{mode}: {refused}");
    }
    // The public authorities did not sign a test certificate either; and a check with no
    // authority named is refused before connecting, as libpq refuses it.
    let public = open(url("127.0.0.1", "sslmode=verify-full&sslrootcert=system".into())).unwrap_err();
    assert!(public.contains("certificate"), "{public}");
    for mode in ["verify-full", "verify-ca"] {
        let unnamed = open(url("127.0.0.1", format!("sslmode={mode}"))).unwrap_err();
        assert!(unnamed.contains("no authority was given"), "{mode}: {unnamed}");
    }
    // In the clear, the server refuses.
    let plain = open(url("127.0.0.1", "sslmode=disable".into())).unwrap_err();
    assert!(
        plain.contains("no encryption") || plain.contains("pg_hba"),
        "{plain}"
    );
    let missing = open(url(
        "127.0.0.1",
        "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem".into(),
    ))
    .unwrap_err();
    assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
}

/// Messages to suppliers: queued with one audit entry, claimed once, answered, retried when
/// due, a claim left by a run that ended taken over after ten minutes, and what was queued
/// never changed or removed, even by hand.
fn supplier_mail_is_claimed_once_and_kept_as_queued(kind: Kind) {
    use custody_store::{MailAbout, OutboxState, OutboxUpdate, SupplierMailText};
    let (fixture, mut store) = store(kind);
    let first = supplier(&mut store, "A");
    let second = supplier(&mut store, "B");
    let mail = |supplier, to: &str| SupplierMailText {
        supplier,
        incident: None,
        about: MailAbout::Question,
        recipient: to.into(),
        subject: "Questions about incident 1".into(),
        body: "1. What happened?".into(),
        message_id: format!("<question.1.{to}>"),
    };
    let start = at("2021-11-01 10:00");
    const RUN: i64 = 7;
    const OTHER: i64 = 8;
    let head = |store: &Boxed| store.audit_head().unwrap().map(|entry| entry.seq);
    let before = head(&store);
    let ids = store
        .queue_supplier_mail(
            &[mail(first, "security@a.example"), mail(second, "dpo@b.example")],
            start,
            draft("supplier.mail.queue"),
            &TestSigner,
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(head(&store), Some(before.unwrap_or(0) + 1), "one audit entry");
    let listed = store.supplier_mail(Some(first)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].mail.recipient, "security@a.example");
    assert_eq!(listed[0].state, OutboxState::Queued);
    assert_eq!(store.supplier_mail(None).unwrap()[0].id, ids[1], "newest first");

    let claimed = store.claim_supplier_mail(RUN, start, 10).unwrap();
    assert_eq!(claimed.iter().map(|mail| mail.id).collect::<Vec<_>>(), ids);
    assert!(claimed.iter().all(|mail| mail.state == OutboxState::Sending));
    assert!(
        store.claim_supplier_mail(RUN, start, 10).unwrap().is_empty(),
        "claimed once"
    );
    let later = at("2021-11-01 10:05");
    store
        .record_supplier_mail(RUN, ids[0], &OutboxUpdate::Sent(start, "250 queued".into()))
        .unwrap();
    store
        .record_supplier_mail(RUN, ids[1], &OutboxUpdate::Retry(later, "451 try later".into()))
        .unwrap();
    // An answer for a message no longer being sent changes nothing.
    store
        .record_supplier_mail(RUN, ids[0], &OutboxUpdate::Failed("late".into()))
        .unwrap();
    let sent = &store.supplier_mail(Some(first)).unwrap()[0];
    assert_eq!(
        (sent.state, sent.attempts, sent.sent_at),
        (OutboxState::Sent, 1, Some(start))
    );
    assert_eq!(sent.reply.as_deref(), Some("250 queued"));
    assert!(
        store.claim_supplier_mail(RUN, start, 10).unwrap().is_empty(),
        "not due yet"
    );
    let retried = store.claim_supplier_mail(RUN, later, 10).unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].id, ids[1]);
    // Its run ends without an answer: another takes it over only after ten minutes.
    assert!(
        store
            .claim_supplier_mail(RUN, at("2021-11-01 10:14"), 10)
            .unwrap()
            .is_empty()
    );
    let taken_over = store
        .claim_supplier_mail(OTHER, at("2021-11-01 10:15"), 10)
        .unwrap();
    assert_eq!(taken_over.len(), 1);
    // The run that lost it answers late: its answer is not the new claim's.
    store
        .record_supplier_mail(RUN, ids[1], &OutboxUpdate::Sent(later, "250 late".into()))
        .unwrap();
    assert_eq!(
        store.supplier_mail(Some(second)).unwrap()[0].state,
        OutboxState::Sending
    );
    store
        .record_supplier_mail(OTHER, ids[1], &OutboxUpdate::Failed("550 no such user".into()))
        .unwrap();
    let failed = &store.supplier_mail(Some(second)).unwrap()[0];
    assert_eq!((failed.state, failed.attempts), (OutboxState::Failed, 2));

    drop(store);
    for sql in [
        "UPDATE supplier_mail SET body = 'something else'",
        "UPDATE supplier_mail SET recipient = 'someone@else.example'",
        "DELETE FROM supplier_mail",
    ] {
        assert!(fixture.raw(sql).is_err(), "{sql} went through");
    }
    let store = fixture.open();
    assert_eq!(store.supplier_mail(None).unwrap().len(), 2);
    assert_eq!(
        store.supplier_mail(Some(first)).unwrap()[0].mail.body,
        "1. What happened?"
    );
}
