//! Use cases in process on the shared fixture, on both backends: what custody answers must not
//! depend on where the ledger is kept.

use custody_app::notices::notice_model::NoticeContext;
use custody_app::notices::notify::{Audience, queue};
use custody_app::{breach::impact, breach::incidents, ledger::holdings, ledger::people};
use custody_core::IncidentId;

use crate::fixture::{BOTH, Backend, now, restored};

/// The impact of the demo incident, its holdings and the people of each category.
fn answers(backend: Backend) -> serde_json::Value {
    let fixture = restored(backend);
    let ledger = &fixture.ledger;
    let incident = incidents::find_incident(ledger, IncidentId::new(1)).unwrap();
    let view = impact::compute(ledger, &incident).unwrap();
    let held = holdings::holdings(ledger, &fixture.supplier, now(), false).unwrap();
    let counts = ledger.store.people_counts().unwrap();
    serde_json::json!({
        "impact": serde_json::to_value(&view.figures).unwrap(),
        "held": held.people,
        "counts": counts.iter().map(|(category, status, n)| format!("{} {} {n}", category.as_str(), status.as_str())).collect::<Vec<_>>(),
    })
}

#[test]
fn the_demo_incident_is_answered_alike_on_both_backends() {
    let [sqlite, postgres] = BOTH.map(answers);
    assert!(sqlite["impact"]["people"].as_u64().unwrap() > 100, "{sqlite}");
    assert_eq!(sqlite, postgres);
}

#[test]
fn notices_are_grouped_by_address_alike_on_both_backends() {
    let counts = BOTH.map(|backend| {
        let mut fixture = restored(backend);
        let context = NoticeContext::build(&fixture.ledger, IncidentId::new(1)).unwrap();
        let dry = queue(&mut fixture.ledger, &context, &Audience::Affected, true).unwrap();
        let queued = queue(&mut fixture.ledger, &context, &Audience::Affected, false).unwrap();
        assert_eq!((dry.people, dry.messages), (queued.people, queued.messages));
        // Queued again: nothing new, every message covered already.
        let again = queue(&mut fixture.ledger, &context, &Audience::Affected, false).unwrap();
        assert_eq!((again.added, again.already_queued), (0, queued.added));
        (
            queued.people,
            queued.messages,
            queued.added,
            queued.sharing_an_address,
            queued.letters.len(),
        )
    });
    assert!(counts[0].1 > 0 && counts[0].1 <= counts[0].0, "{counts:?}");
    assert_eq!(counts[0], counts[1]);
}

#[test]
fn a_partial_reimport_updates_people_in_place_alike_on_both_backends() {
    let found = BOTH.map(|backend| {
        let mut fixture = restored(backend);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("moved.csv");
        let (reference, _) = first_person(&fixture.ledger);
        std::fs::write(
            &file,
            format!("Member Number,Email\n{reference},moved.away@example.net\nNEW-1,new.one@example.net\n"),
        )
        .unwrap();
        let options = people::ImportOptions {
            default_category: Some(custody_core::PersonCategory::Member),
            ..people::ImportOptions::default()
        };
        let report = people::import_people(&mut fixture.ledger, &file, &options).unwrap();
        assert_eq!((report.inserted, report.updated), (1, 1));
        let hash = fixture.ledger.vault.identifier_hash(
            custody_core::IdentifierKind::EmailStrict.tag(),
            "moved.away@example.net",
        );
        let holders = fixture
            .ledger
            .store
            .people_by_identifier(custody_core::IdentifierKind::EmailStrict, &hash)
            .unwrap();
        let id = fixture
            .ledger
            .store
            .person_id_by_ref(&reference)
            .unwrap()
            .unwrap();
        assert_eq!(holders, vec![id], "the new address finds the person");
        let person = fixture.ledger.store.person_by_ref(&reference).unwrap().unwrap();
        (
            holders.len(),
            person.category.as_str().to_owned(),
            person.status.as_str().to_owned(),
        )
    });
    assert_eq!(found[0], found[1]);
}

/// The first person of the ledger: reference and id.
fn first_person(ledger: &custody_app::Ledger) -> (String, u32) {
    for id in 1.. {
        if let Some(person) = ledger.store.person(id).unwrap()
            && person.canary_share.is_none()
        {
            return (person.reference, id);
        }
    }
    unreachable!()
}
