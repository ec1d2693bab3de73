//! Loading a backlog of requests (an export of a mailbox nobody watched): one row per request
//! with when it was received, who sent it and what they asked for. Every bad row is reported
//! with its line and column; nothing is recorded unless every row is good. A request already
//! recorded (same requester, kind and receipt) is refused rather than doubled.

use custody_core::RequestId;
use std::path::Path;

use serde::Serialize;

use custody_core::{Channel, RequestKind, parse_instant};
use custody_ingest::{Table, TableOptions};
use custody_store::NewRequest;

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};
use crate::rights::requests::{OpenInput, Requester, new_request, requester_email};

/// What an import recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ImportedRequests {
    /// Requests recorded.
    pub recorded: usize,
    /// Of which matched to a person.
    pub matched: usize,
    /// Of which already overdue when imported.
    pub overdue: usize,
    /// Their ids.
    pub requests: Vec<RequestId>,
    /// Erasures that instructed suppliers.
    pub erasures_instructed: usize,
}

#[derive(Clone, Copy)]
enum Field {
    Received,
    Sender,
    Reference,
    Kind,
    Channel,
    Name,
    Postcode,
    Born,
}

fn field_of(header: &str) -> Option<Field> {
    let key: String = header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    match key.as_str() {
        "receivedat" | "received" | "date" | "receivedon" | "timestamp" => Some(Field::Received),
        "sender" | "from" | "email" | "emailaddress" | "requester" => Some(Field::Sender),
        "ref" | "reference" | "personref" => Some(Field::Reference),
        "kind" | "type" | "request" | "requesttype" => Some(Field::Kind),
        "channel" | "via" => Some(Field::Channel),
        "name" | "fullname" | "sendername" | "requestername" => Some(Field::Name),
        "postcode" | "zip" | "zipcode" | "postalcode" => Some(Field::Postcode),
        "dob" | "dateofbirth" | "birthdate" | "born" => Some(Field::Born),
        _ => None,
    }
}

/// The column index of each field this file has.
struct Columns {
    received: usize,
    kind: usize,
    sender: Option<usize>,
    reference: Option<usize>,
    channel: Option<usize>,
    /// What requesters said of themselves (name, postcode, date of birth), for suggestions.
    described: [Option<usize>; 3],
}

fn columns(file: &str, headers: &[String]) -> Result<Columns> {
    let mut found: [Option<usize>; 8] = [None; 8];
    for (index, header) in headers.iter().enumerate() {
        if let Some(field) = field_of(header)
            && let Some(slot) = found.get_mut(field as usize)
        {
            slot.get_or_insert(index);
        }
    }
    let [received, sender, reference, kind, channel, name, postcode, born] = found;
    let missing = |what: &str| {
        Error::from(custody_ingest::Error::at(
            file,
            Some(1),
            None,
            format!("no {what} column; the header row needs received_at, sender (or ref) and kind"),
        ))
    };
    if sender.is_none() && reference.is_none() {
        return Err(missing("sender or ref"));
    }
    Ok(Columns {
        received: received.ok_or_else(|| missing("received_at"))?,
        kind: kind.ok_or_else(|| missing("kind"))?,
        sender,
        reference,
        channel,
        described: [name, postcode, born],
    })
}

/// Reads one row into a request, or says what is wrong with it (naming the column).
fn row_input(
    ledger: &Ledger,
    columns: &Columns,
    headers: &[String],
    record: &csv::StringRecord,
    at: &dyn Fn(usize, String) -> Error,
) -> Result<OpenInput> {
    let cell = |index: usize| record.get(index).unwrap_or_default().trim();
    let name = |index: usize| headers.get(index).cloned().unwrap_or_default();
    let received_at = parse_instant(cell(columns.received), &ledger.zone)
        .map_err(|error| at(columns.received, error.to_string()))?;
    if received_at > ledger.now() {
        return Err(at(
            columns.received,
            "in the future; expected when the request arrived".to_owned(),
        ));
    }
    let kind = RequestKind::parse(cell(columns.kind)).map_err(|error| at(columns.kind, error.to_string()))?;
    let channel = match columns.channel.map(|index| (index, cell(index))) {
        Some((index, text)) if !text.is_empty() => {
            Some(Channel::parse(text).map_err(|error| at(index, error.to_string()))?)
        }
        _ => None,
    };
    let reference = columns.reference.map(cell).filter(|text| !text.is_empty());
    let email = match columns.sender.map(|index| (index, cell(index))) {
        Some((index, text)) if !text.is_empty() => {
            if requester_email(text).is_none() {
                return Err(at(
                    index,
                    "not an email address; expected name@example.org".to_owned(),
                ));
            }
            Some(text.to_owned())
        }
        _ => None,
    };
    if reference.is_none() && email.is_none() {
        let column = columns.sender.or(columns.reference).unwrap_or(0);
        return Err(at(
            column,
            format!("empty; expected the requester's {}", name(column)),
        ));
    }
    let said = |slot: Option<usize>| slot.map(cell).filter(|text| !text.is_empty()).map(str::to_owned);
    let [name_column, postcode, born] = columns.described;
    // A backlog is suggested people by keyed identifiers only: one reading of the ledger per
    // request would make a large backlog take hours.
    let described = crate::rights::request_linkage::Described {
        name: said(name_column),
        postcode: said(postcode),
        born: said(born),
        keyed_only: true,
    };
    // These serve only to suggest people when the address matches nobody: a row with no name
    // is not held to them. With a name, a value that cannot be read names its cell.
    if let (Some(index), Some(name)) = (name_column, &described.name) {
        crate::limits::short_text("name", name).map_err(|error| at(index, error.to_string()))?;
        if let (Some(index), Some(text)) = (postcode, &described.postcode)
            && custody_core::normalise_postcode(text).is_none()
        {
            return Err(at(
                index,
                "not a postcode; expected one such as LS1 4AP".to_owned(),
            ));
        }
        if let (Some(index), Some(text)) = (born, &described.born)
            && custody_core::parse_day(text).is_err()
        {
            return Err(at(
                index,
                "not a date; expected one such as 1980-04-03".to_owned(),
            ));
        }
    }
    Ok(OpenInput {
        requester: Requester {
            reference: reference.map(str::to_owned),
            email,
            described,
        },
        kind,
        received_at,
        channel,
        source: None,
    })
}

/// What makes two requests the same one: person, requester, kind, receipt.
type SameKey = (Option<u32>, Option<[u8; 16]>, &'static str, i64);

/// The key that makes two requests the same one: by address when one was given (whether or not
/// it matched a person then), else by person.
fn same_key(request: &NewRequest) -> SameKey {
    (
        if request.requester_hash.is_some() {
            None
        } else {
            request.person
        },
        request.requester_hash,
        request.kind.as_str(),
        request.received_at.unix_seconds(),
    )
}

/// Imports a backlog of requests, all or nothing.
pub fn import(ledger: &mut Ledger, path: &Path) -> Result<ImportedRequests> {
    let mut table = Table::open(path, TableOptions::default())?;
    let file = table.file().to_owned();
    let headers = table.headers().to_vec();
    let columns = columns(&file, &headers)?;
    // Only the file's name goes into the record: paths say things about the machine.
    let name = crate::ledger::people::file_name(path);
    let known: Vec<_> = ledger.store.requests()?;
    let known_keys: Vec<_> = known
        .iter()
        .map(|record| (record.id, same_key(&record.facts)))
        .collect();
    // Read once: every row's deadline counts with the same bank holidays.
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    let mut record = csv::StringRecord::new();
    let mut requests: Vec<NewRequest> = Vec::new();
    let mut seen: Vec<(u64, SameKey)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut instructed: Vec<serde_json::Value> = Vec::new();
    while let Some(line) = table.next_row(&mut record)? {
        let at = |column: usize, message: String| {
            let header = headers.get(column).cloned().unwrap_or_default();
            Error::from(custody_ingest::Error::at(
                &file,
                Some(line),
                Some(format!("{header} ({})", column + 1)),
                message,
            ))
        };
        let built = row_input(ledger, &columns, &headers, &record, &at).and_then(|mut input| {
            input.source = Some(format!("{name} line {line}"));
            let column = match input.requester.reference {
                Some(_) => columns.reference,
                None => columns.sender,
            };
            new_request(ledger, &input, &holidays).map_err(|error| match error {
                Error::NotFound(message) | Error::Invalid(message) => at(column.unwrap_or(0), message),
                other => other,
            })
        });
        match built {
            Ok((request, opened)) => {
                let key = same_key(&request);
                if let Some((id, _)) = known_keys.iter().find(|(_, other)| *other == key) {
                    problems.push(format!("{file}, line {line}: already recorded as request {id}"));
                } else if let Some((first, _)) = seen.iter().find(|(_, other)| *other == key) {
                    problems.push(format!("{file}, line {line}: the same request as line {first}"));
                } else {
                    seen.push((line, key));
                    if !opened.instructed.is_empty() {
                        instructed.push(serde_json::json!({ "line": line, "person": opened.reference,
                            "suppliers": opened.instructed }));
                    }
                    requests.push(request);
                }
            }
            Err(error) => problems.push(error.to_string()),
        }
    }
    if !problems.is_empty() {
        let count = problems.len();
        let shown: Vec<String> = problems.into_iter().take(20).collect();
        let more = if count > shown.len() {
            format!("\n… and {} more", count - shown.len())
        } else {
            String::new()
        };
        return Err(Error::Invalid(format!(
            "{count} bad row(s); nothing was recorded:\n{}{more}",
            shown.join("\n")
        )));
    }
    if requests.is_empty() {
        return Err(Error::Invalid(format!("{file} has no requests")));
    }
    let today = ledger.now().local_day(&ledger.zone);
    let matched = requests.iter().filter(|request| request.person.is_some()).count();
    let mut overdue = 0;
    for request in &requests {
        let received = request.received_at.local_day(&ledger.zone);
        if custody_core::request_deadline(received, 0, 0, &holidays.days)? < today {
            overdue += 1;
        }
    }
    let draft = ledger.draft(
        "request.import",
        "requests",
        serde_json::json!({ "file": name, "requests": requests.len(), "matched": matched,
            "instructed": instructed }),
    );
    let recorded = requests.len();
    let erasures_instructed = instructed.len();
    let ids = ledger
        .store
        .open_requests(requests, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    // Every instruction the backlog made (erasures, corrections, restrictions, objections).
    if matched > 0 {
        let new: Vec<_> = ids.iter().map(|id| (*id, 0)).collect();
        crate::notices::instruction_mail::queue_recorded(ledger, &new)?;
    }
    Ok(ImportedRequests {
        recorded,
        matched,
        overdue,
        requests: ids,
        erasures_instructed,
    })
}

/// Imports a backlog uploaded at the desk: the bytes are written to a private file in a fresh
/// folder of the data directory under the upload's (cleaned) name, imported exactly as a file
/// given on the command line, and removed whatever the outcome.
pub fn import_upload(ledger: &mut Ledger, name: &str, bytes: &[u8]) -> Result<ImportedRequests> {
    let cleaned: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(80)
        .collect();
    let cleaned = match cleaned.trim().trim_start_matches('.') {
        "" => "upload.csv".to_owned(),
        name => name.to_owned(),
    };
    // Upload folders a crash left behind hold requesters' addresses: removed first.
    let folder =
        crate::files::private_folder(&ledger.dir, "upload").map_err(|error| Error::io(&ledger.dir, error))?;
    let path = folder.join(&cleaned);
    let written = crate::files::create_new_private(&path).and_then(|mut file| {
        use std::io::Write;
        file.write_all(bytes)?;
        file.sync_all()
    });
    let result = written
        .map_err(|error| Error::io(&path, error))
        .and_then(|()| import(ledger, &path));
    let _removed = std::fs::remove_dir_all(&folder);
    // The person at the desk knows the file by its name, not by where it was put.
    let place = format!("{}{}", folder.display(), std::path::MAIN_SEPARATOR);
    result.map_err(|error| match error {
        Error::NotFound(_) | Error::Invalid(_) | Error::Ingest(_) | Error::Io { .. } => {
            Error::Invalid(error.to_string().replace(&place, ""))
        }
        other => other,
    })
}
