//! Reports kept exactly as filed. Recording that the regulator was told (`regulator-notified`,
//! or `regulator-updated` for a follow-up) freezes the report of that phase as it stands then:
//! its JSON model and the rendered Markdown and HTML, with the SHA-256 of each, stored with the
//! act in one transaction and never changed (the store refuses). `custody report --as-filed`
//! returns those bytes, after checking them against their digests: a report found altered fails
//! loudly rather than being shown.

use custody_core::{EventId, IncidentId};
use serde::Serialize;
use sha2::Digest;

use custody_core::Instant;
use custody_store::{FiledReport, NewFiledReport};

use crate::breach::incident_events::{ActDone, IncidentEventBody};
use crate::breach::report::{Format, Phase};
use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};

fn sha256(bytes: &[u8]) -> String {
    custody_vault::hex(&sha2::Sha256::digest(bytes))
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Initial => "initial",
        Phase::FollowUp => "follow-up",
    }
}

/// Records the act that filed a report and the report as it stands, in one transaction.
pub(crate) fn file(
    ledger: &mut Ledger,
    id: IncidentId,
    at: Instant,
    done: ActDone,
    phase: Phase,
) -> Result<()> {
    // The regulator is told once; what changes after is a follow-up. A directory from before
    // reports were kept has the act without a filed copy: that counts as told too.
    let notified = crate::breach::incidents::first_act(
        &crate::breach::incident_events::log(ledger, id)?,
        crate::breach::incidents::Act::RegulatorNotified,
    );
    match (phase, notified) {
        (Phase::Initial, Some(at)) => {
            return Err(Error::Invalid(format!(
                "incident {id}'s regulator was told on {at} (the initial report); file what has changed \
                 since with `custody incident record {id} regulator-updated --at …`"
            )));
        }
        (Phase::FollowUp, None) => {
            return Err(Error::Invalid(format!(
                "a follow-up report follows an initial one: record it first with \
                 `custody incident record {id} regulator-notified --at …`"
            )));
        }
        _ => {}
    }
    let mut model = crate::breach::report::model(ledger, id, phase)?;
    if phase == Phase::Initial {
        let incident = crate::breach::incidents::find_incident(ledger, id)?;
        model.late = at > incident.facts.aware_at.plus_hours(custody_core::REGULATOR_HOURS);
        model.delay_reason.clone_from(&done.delay_reason);
    }
    if done.reference.is_some() {
        model.regulator_reference.clone_from(&done.reference);
    }
    let json = crate::breach::report::render(&model, Format::Json)?;
    let markdown = crate::breach::report::render(&model, Format::Markdown)?;
    let html = crate::breach::report::render(&model, Format::Html)?;
    store(ledger, id, at, done, phase_name(phase), [json, markdown, html])
}

/// Records the act that met another body's duty (`obligation-met`: another country's regulator,
/// an attorney general) and the report to that body as it stands, in its structure, in one
/// transaction: kept under the duty's key (`initial:IE:gdpr-regulator`), read back with
/// `report --regulator IE --as-filed`.
pub(crate) fn file_for_body(
    ledger: &mut Ledger,
    id: IncidentId,
    done: ActDone,
    to: crate::breach::report_addressee::Addressee,
    filing: crate::breach::report_forms::Filing,
) -> Result<()> {
    let Some(phase) = to.filing_phase() else {
        return Err(Error::Invalid(format!(
            "{} has no duty in the rules to file a report under",
            to.short
        )));
    };
    let at = filing.at;
    let prepared = crate::breach::report_forms::prepare(ledger, id, Phase::Initial, to, Some(filing))?;
    let texts = [
        prepared.render(Format::Json)?,
        prepared.render(Format::Markdown)?,
        prepared.render(Format::Html)?,
    ];
    store(ledger, id, at, done, &phase, texts)
}

/// Stores the act and the report's JSON, Markdown and HTML with their digests, in one
/// transaction, and audits the digests with the act.
fn store(
    ledger: &mut Ledger,
    id: IncidentId,
    at: Instant,
    done: ActDone,
    phase: &str,
    [json, markdown, html]: [String; 3],
) -> Result<()> {
    let report = NewFiledReport {
        phase: phase.to_owned(),
        sha256: [
            sha256(json.as_bytes()),
            sha256(markdown.as_bytes()),
            sha256(html.as_bytes()),
        ],
        model: json.into_bytes(),
        markdown: markdown.into_bytes(),
        html: html.into_bytes(),
    };
    let filed = serde_json::json!({ "phase": report.phase, "json_sha256": report.sha256[0],
        "md_sha256": report.sha256[1], "html_sha256": report.sha256[2] });
    let (event, draft) =
        crate::breach::incidents::prepare(ledger, at, &IncidentEventBody::Act(done), Some(("filed", filed)))?;
    ledger
        .store
        .file_report(id, event, report, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    Ok(())
}

/// The digests recorded in the keyed audit chain when the report was filed: the row's own
/// digests could be rewritten with the bytes, the audit entry cannot without the key.
fn audited_digests(ledger: &Ledger, report: &FiledReport) -> Result<Option<[String; 3]>> {
    #[derive(serde::Deserialize)]
    struct Filed {
        json_sha256: String,
        md_sha256: String,
        html_sha256: String,
        phase: String,
    }
    #[derive(serde::Deserialize)]
    struct Details {
        filed: Option<Filed>,
    }
    let subject = format!("incident:{}", report.incident);
    let mut found = Vec::new();
    ledger.store.audit_entries(&mut |entry| {
        if entry.subject == subject
            && entry.action == "incident.act"
            && let Ok(Details { filed: Some(filed) }) = serde_json::from_str::<Details>(&entry.details)
            && filed.phase == report.report.phase
        {
            found.push([filed.json_sha256, filed.md_sha256, filed.html_sha256]);
        }
        Ok(())
    })?;
    Ok(found.into_iter().find(|digests| *digests == report.report.sha256))
}

/// A filed report about to be read back, checked against the audit entry of its filing (a
/// scan of the audit log: done when the bytes are read, not for listings) and its digests.
fn checked_with_audit(ledger: &Ledger, report: &FiledReport) -> Result<()> {
    if audited_digests(ledger, report)?.is_none() {
        return Err(Error::Store(custody_store::Error::Corrupt(format!(
            "the {} report of incident {} as filed does not match the digests its filing recorded in the audit \
             log: it has been altered (`custody audit verify` shows whether the log is whole)",
            report.report.phase, report.incident
        ))));
    }
    checked(report)
}

/// A filed report, checked against the digests stored with it.
fn checked(report: &FiledReport) -> Result<()> {
    let parts = [
        ("JSON", &report.report.model, &report.report.sha256[0]),
        ("Markdown", &report.report.markdown, &report.report.sha256[1]),
        ("HTML", &report.report.html, &report.report.sha256[2]),
    ];
    for (name, bytes, filed) in parts {
        let now = sha256(bytes);
        if now != *filed {
            return Err(Error::Store(custody_store::Error::Corrupt(format!(
                "the {} report of incident {} as filed has been altered: its {name} has SHA-256 {now}, \
                 but {filed} when it was filed",
                report.report.phase, report.incident
            ))));
        }
    }
    Ok(())
}

/// The latest report of `phase` as it was filed, byte for byte (audited as `report.as_filed`).
pub fn as_filed(ledger: &mut Ledger, id: IncidentId, phase: Phase, format: Format) -> Result<String> {
    as_filed_under(ledger, id, phase_name(phase), format).map_err(|error| match error {
        Error::NotFound(_) => Error::NotFound(format!(
            "no {} report of incident {id} has been filed; it is filed when you record \
             regulator-notified (initial) or regulator-updated (follow-up)",
            phase_name(phase)
        )),
        other => other,
    })
}

/// The report to another body (`name`, as `report --regulator` takes it) as it was filed by
/// `obligation-met`.
pub fn as_filed_with(ledger: &mut Ledger, id: IncidentId, name: &str, format: Format) -> Result<String> {
    let rules = crate::breach::jurisdictions::for_ledger(ledger)?;
    let variants = &ledger.settings.establishment.variants;
    let to = crate::breach::report_addressee::addressee(&rules, name, variants)?;
    // The organisation's own regulator's report is the one filed by regulator-notified.
    let own = to.jurisdiction == ledger.settings.phone_region
        && rules.get(&to.jurisdiction).is_some_and(|jurisdiction| {
            jurisdiction.obligations.iter().any(|rule| {
                Some(&rule.id) == to.obligation.as_ref()
                    && rule.to == crate::breach::jurisdictions::Recipient::Regulator
            })
        });
    if own {
        return as_filed(ledger, id, Phase::Initial, format);
    }
    let key = format!("{}:{}", to.jurisdiction, to.obligation.as_deref().unwrap_or("…"));
    let Some(phase) = to.filing_phase() else {
        return Err(Error::NotFound(format!(
            "{} has no duty in the rules to file a report under",
            to.short
        )));
    };
    as_filed_under(ledger, id, &phase, format).map_err(|error| match error {
        Error::NotFound(_) => Error::NotFound(format!(
            "no report of incident {id} to {} has been filed; it is filed when you record \
             `incident record {id} obligation-met --obligation {key}`",
            to.short
        )),
        other => other,
    })
}

fn as_filed_under(ledger: &mut Ledger, id: IncidentId, phase: &str, format: Format) -> Result<String> {
    crate::breach::incidents::find_incident(ledger, id)?;
    let filed = ledger.store.filed_reports(id)?;
    let report = filed
        .iter()
        .rev()
        .find(|report| report.report.phase == phase)
        .ok_or_else(|| Error::NotFound(phase.to_owned()))?;
    checked_with_audit(ledger, report)?;
    let bytes = match format {
        Format::Json => &report.report.model,
        Format::Markdown => &report.report.markdown,
        Format::Html => &report.report.html,
    };
    let text = String::from_utf8(bytes.clone())
        .map_err(|error| Error::Store(custody_store::Error::Corrupt(error.to_string())))?;
    ledger.audit_only(
        "report.as_filed",
        &format!("incident:{id}"),
        serde_json::json!({ "phase": report.report.phase, "event": report.event }),
    )?;
    Ok(text)
}

/// A filed report, for listings (the register, `incident show`).
#[derive(Debug, Clone, Serialize)]
pub struct FiledView {
    /// The act that filed it.
    pub event: EventId,
    /// `initial` or `follow-up`; `initial:IE:gdpr-regulator` for another body's.
    pub phase: String,
    /// For another body's report, the duty it answered (`IE:gdpr-regulator`).
    pub to: Option<String>,
    /// When it was filed.
    pub filed_at: Instant,
    /// SHA-256 of its JSON, Markdown and HTML as filed.
    pub sha256: [String; 3],
}

/// The reports filed for an incident, each checked against its digests.
pub fn filed(ledger: &Ledger, id: IncidentId) -> Result<Vec<FiledView>> {
    let events = ledger.store.incident_events(id)?;
    ledger
        .store
        .filed_reports(id)?
        .into_iter()
        .map(|report| {
            checked(&report)?;
            let filed_at = events
                .iter()
                .find(|event| event.id == report.event)
                .map_or(Instant::from_unix_seconds(0)?, |event| event.at);
            Ok(FiledView {
                event: report.event,
                to: report.report.phase.strip_prefix("initial:").map(str::to_owned),
                phase: report.report.phase,
                filed_at,
                sha256: report.report.sha256,
            })
        })
        .collect()
}
