//! Incidents at the organisation itself — a misdirected email, a lost laptop, a hacked account —
//! have no supplier whose holdings say who was affected. The people come from a file (matched to
//! the ledger as a share's rows are, the set kept with the event that recorded it) or, when only
//! counts are known, from a number and the data categories involved.

use custody_core::IncidentId;
use serde::{Deserialize, Serialize};

use custody_core::{CategoryKey, Holdings, PersonSet};
use custody_ingest::{Table, TableOptions, map_share_columns};
use custody_store::IncidentRecord;

use crate::breach::incident_events::{IncidentEventBody, Recorded};
use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};

/// How an incident at the organisation itself is named where a supplier's name would stand.
pub const IN_HOUSE: &str = "our own organisation";

/// Where an incident happened, in words: the supplier, or [`IN_HOUSE`].
pub fn where_(incident: &IncidentRecord) -> String {
    incident.supplier.clone().unwrap_or_else(|| IN_HOUSE.to_owned())
}

/// People recorded as affected by an incident at the organisation itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeopleAffected {
    /// The file they came from, or `None` for a count given by hand.
    pub file: Option<String>,
    /// SHA-256 of the file.
    pub sha256: Option<String>,
    /// Rows read from the file.
    pub rows: u64,
    /// Rows that matched no one.
    pub unmatched: u64,
    /// People: matched from the file, or the count given.
    pub people: u64,
    /// Data categories involved (from the file's columns, or as given).
    pub categories: Vec<String>,
}

/// The holdings of an incident at the organisation itself: everyone matched from its files, per
/// data category; and the people only counted, with their categories.
pub fn holdings(
    ledger: &Ledger,
    incident: &IncidentRecord,
    events: &[Recorded],
) -> Result<(Holdings, u64, Vec<String>)> {
    let people = ledger.store.incident_people(incident.id)?;
    let mut holdings = Holdings {
        people: people.clone(),
        canaries: PersonSet::new(),
        categories: std::collections::BTreeMap::new(),
    };
    let mut counted = 0;
    let mut counted_categories: Vec<String> = Vec::new();
    for recorded in events {
        if let IncidentEventBody::People(affected) = &recorded.body {
            if affected.file.is_some() {
                for key in &affected.categories {
                    if let Ok(key) = CategoryKey::parse(key) {
                        holdings.categories.entry(key).or_default().clone_from(&people);
                    }
                }
            } else {
                counted += affected.people;
                for key in &affected.categories {
                    if !counted_categories.contains(key) {
                        counted_categories.push(key.clone());
                    }
                }
            }
        }
    }
    Ok((holdings, counted, counted_categories))
}

/// Who an incident concerns over its window: what its supplier held then, or the people
/// recorded as affected by an incident at the organisation itself.
pub fn held(ledger: &Ledger, incident: &IncidentRecord) -> Result<Holdings> {
    let (from, to) = crate::breach::impact::window(incident);
    match &incident.supplier {
        Some(supplier) => Ok(crate::ledger::holdings::compute_window(ledger, supplier, from, to)?.0),
        None => {
            let events = crate::breach::incident_events::log(ledger, incident.id)?;
            Ok(holdings(ledger, incident, &events)?.0)
        }
    }
}

fn in_house(ledger: &Ledger, id: IncidentId) -> Result<()> {
    let incident = crate::breach::incidents::find_incident(ledger, id)?;
    if let Some(supplier) = incident.supplier {
        return Err(Error::Invalid(format!(
            "incident {id} is at {supplier}: its people come from the ledger's record of what {supplier} held"
        )));
    }
    Ok(())
}

/// Records the people of a file (a misdirected email's recipients list, a lost laptop's export)
/// as affected by an incident at the organisation itself; the file's columns name the data.
pub fn record_file(
    ledger: &mut Ledger,
    id: IncidentId,
    path: &std::path::Path,
    maps: &[(String, String)],
) -> Result<PeopleAffected> {
    in_house(ledger, id)?;
    let mut table = Table::open(path, TableOptions::default())?;
    let file = table.file().to_owned();
    let headers = table.headers().to_vec();
    let columns = map_share_columns(&file, &headers, maps)?;
    let mut linked = crate::ledger::shares::link_rows(ledger, &mut table, &columns)?;
    linked.sha256 = table.finish()?;
    let affected = PeopleAffected {
        file: Some(crate::limits::cleaned_name(&crate::ledger::people::file_name(
            path,
        ))),
        sha256: Some(custody_vault::hex(&linked.sha256)),
        rows: linked.rows,
        unmatched: linked.unmatched,
        people: linked.people.len(),
        categories: columns
            .categories()
            .iter()
            .map(|key| key.as_str().to_owned())
            .collect(),
    };
    store(ledger, id, &affected, &linked.people)?;
    Ok(affected)
}

/// Records a count of people affected, when only the number and the kinds of data are known.
pub fn record_count(
    ledger: &mut Ledger,
    id: IncidentId,
    people: u64,
    categories: &[CategoryKey],
) -> Result<PeopleAffected> {
    in_house(ledger, id)?;
    if people == 0 {
        return Err(Error::Invalid(
            "--people: give how many people were affected (1 or more)".to_owned(),
        ));
    }
    if categories.is_empty() {
        return Err(Error::Invalid(
            "--categories: name the kinds of data involved (e.g. user.name,user.contact.email)".to_owned(),
        ));
    }
    let affected = PeopleAffected {
        file: None,
        sha256: None,
        rows: 0,
        unmatched: 0,
        people,
        categories: categories.iter().map(|key| key.as_str().to_owned()).collect(),
    };
    store(ledger, id, &affected, &PersonSet::new())?;
    Ok(affected)
}

fn store(ledger: &mut Ledger, id: IncidentId, affected: &PeopleAffected, people: &PersonSet) -> Result<()> {
    let now = ledger.now();
    let (event, draft) =
        crate::breach::incidents::prepare(ledger, now, &IncidentEventBody::People(affected.clone()), None)?;
    ledger
        .store
        .record_incident_people(id, event, people, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    crate::breach::impact::refresh(ledger, id)?;
    Ok(())
}
