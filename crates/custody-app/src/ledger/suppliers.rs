//! Registering suppliers and walking the processor / sub-processor tree.

use custody_core::SupplierId;
use serde::Serialize;

use custody_core::{SupplierName, SupplierRole, country_code, is_uk_or_eea, normalise_email};
use custody_store::{NewSupplier, Supplier};

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};

/// A supplier to register, as the user gave it.
#[derive(Debug, Clone)]
pub struct SupplierInput {
    /// Name.
    pub name: String,
    /// Role.
    pub role: SupplierRole,
    /// Parent processor's name (sub-processors).
    pub parent: Option<String>,
    /// Contractual breach-notice window in hours.
    pub notice_hours: Option<u32>,
    /// Contract reference.
    pub contract: Option<String>,
    /// Contact email.
    pub contact: Option<String>,
    /// Where it keeps the data (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// The safeguard of a transfer outside the UK and EEA (e.g. "International Data Transfer
    /// Agreement", "UK adequacy regulations").
    pub transfer_safeguard: Option<String>,
}

/// A supplier for output.
#[derive(Debug, Clone, Serialize)]
pub struct SupplierView {
    /// Store id.
    pub id: SupplierId,
    /// Name.
    pub name: String,
    /// Role.
    pub role: &'static str,
    /// Parent's name.
    pub parent: Option<String>,
    /// Breach-notice window, hours.
    pub notice_hours: Option<u32>,
    /// Contract reference.
    pub contract: Option<String>,
    /// Contact.
    pub contact: Option<String>,
    /// Where it keeps the data.
    pub country: Option<String>,
    /// The safeguard of a transfer outside the UK and EEA.
    pub transfer_safeguard: Option<String>,
    /// Whether the data goes outside the UK and EEA.
    pub outside_uk_eea: bool,
    /// Registered at (RFC 3339).
    pub created_at: String,
    /// Names of its sub-processors.
    pub sub_processors: Vec<String>,
    /// Shares recorded.
    pub shares: usize,
    /// The people there whom custody writes to (shown for one supplier, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<custody_store::SupplierContact>>,
}

/// Registers a supplier.
pub fn add_supplier(ledger: &mut Ledger, input: SupplierInput) -> Result<SupplierId> {
    let name = SupplierName::parse(&input.name)?;
    let parent = match (&input.parent, input.role) {
        (Some(parent), _) => Some(find(ledger, parent)?.id),
        (None, SupplierRole::SubProcessor) => {
            return Err(Error::Invalid(
                "a sub-processor needs --parent, the processor that engaged it".to_owned(),
            ));
        }
        (None, SupplierRole::Processor) => None,
    };
    if let Some(contract) = &input.contract {
        crate::limits::short_text("contract", contract)?;
    }
    if let Some(contact) = &input.contact {
        crate::limits::short_text("contact", contact)?;
        normalise_email(contact)
            .ok_or_else(|| Error::Invalid(format!("--contact {contact:?} is not an email address")))?;
    }
    let supplier = NewSupplier {
        name: name.as_str().to_owned(),
        role: input.role,
        parent,
        notice_hours: input.notice_hours,
        contract: input.contract,
        contact: input.contact,
        created_at: ledger.now(),
        country: input.country.as_deref().map(country_code).transpose()?,
        transfer_safeguard: checked_safeguard(input.transfer_safeguard)?,
    };
    let draft = ledger.draft(
        "supplier.add",
        "supplier",
        serde_json::json!({ "name": supplier.name, "role": supplier.role.as_str(), "parent": parent,
            "notice_hours": supplier.notice_hours, "contract": supplier.contract,
            "country": supplier.country, "transfer_safeguard": supplier.transfer_safeguard }),
    );
    let id = ledger
        .store
        .add_supplier(supplier, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    Ok(id)
}

fn checked_safeguard(safeguard: Option<String>) -> Result<Option<String>> {
    let safeguard = safeguard
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    if let Some(text) = &safeguard {
        crate::limits::short_text("safeguard", text)?;
    }
    Ok(safeguard)
}

/// Sets where a supplier keeps the data and the safeguard of a transfer outside the UK and EEA;
/// what is not given stays as it is (an empty safeguard removes it).
pub fn set_transfer(
    ledger: &mut Ledger,
    name: &str,
    country: Option<&str>,
    safeguard: Option<String>,
) -> Result<SupplierView> {
    let supplier = find(ledger, name)?;
    if country.is_none() && safeguard.is_none() {
        return Err(Error::Invalid(
            "give --country, --safeguard or both; what is not given stays as it is".to_owned(),
        ));
    }
    let country = match country {
        Some(text) => Some(country_code(text)?),
        None => supplier.country.clone(),
    };
    let safeguard = match safeguard {
        Some(text) => checked_safeguard(Some(text))?,
        None => supplier.transfer_safeguard.clone(),
    };
    let draft = ledger.draft(
        "supplier.transfer",
        &format!("supplier:{}", supplier.id),
        serde_json::json!({ "country": country, "transfer_safeguard": safeguard }),
    );
    ledger.store.set_supplier_transfer(
        supplier.id,
        country.as_deref(),
        safeguard.as_deref(),
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    show(ledger, &supplier.name)
}

/// A supplier by name, or a clear error.
pub fn find(ledger: &Ledger, name: &str) -> Result<Supplier> {
    ledger.store.supplier_by_name(name.trim())?.ok_or_else(|| {
        Error::NotFound(format!(
            "there is no supplier named {name:?}; `custody supplier list` shows them"
        ))
    })
}

/// A supplier by id (one an account or record names), or `NotFound` saying `gone`.
pub fn by_id(ledger: &Ledger, id: SupplierId, gone: &str) -> Result<Supplier> {
    ledger
        .store
        .suppliers()?
        .into_iter()
        .find(|candidate| candidate.id == id)
        .ok_or_else(|| Error::NotFound(gone.to_owned()))
}

/// The supplier and every sub-processor below it, ids in tree order.
pub fn with_sub_processors(all: &[Supplier], root: SupplierId) -> Vec<SupplierId> {
    below(all, root, |_| true)
}

/// The supplier `root` and the suppliers registered under it that `follow` takes, and theirs,
/// ids in tree order.
pub fn below(all: &[Supplier], root: SupplierId, follow: impl Fn(&Supplier) -> bool) -> Vec<SupplierId> {
    let mut out = vec![root];
    let mut index = 0;
    while let Some(current) = out.get(index).copied() {
        for child in all
            .iter()
            .filter(|supplier| supplier.parent == Some(current) && follow(supplier))
        {
            if !out.contains(&child.id) {
                out.push(child.id);
            }
        }
        index += 1;
    }
    out
}

/// Every supplier for output.
pub fn list(ledger: &Ledger) -> Result<Vec<SupplierView>> {
    let all = ledger.store.suppliers()?;
    let shares = ledger.store.shares(None)?;
    Ok(all.iter().map(|supplier| view(supplier, &all, &shares)).collect())
}

/// One supplier for output.
pub fn show(ledger: &Ledger, name: &str) -> Result<SupplierView> {
    let supplier = find(ledger, name)?;
    let all = ledger.store.suppliers()?;
    let shares = ledger.store.shares(Some(&[supplier.id]))?;
    let mut shown = view(&supplier, &all, &shares);
    shown.contacts = Some(ledger.store.supplier_contacts(supplier.id)?);
    Ok(shown)
}

fn view(supplier: &Supplier, all: &[Supplier], shares: &[custody_store::ShareRecord]) -> SupplierView {
    let name_of = |id: SupplierId| {
        all.iter()
            .find(|candidate| candidate.id == id)
            .map(|found| found.name.clone())
    };
    SupplierView {
        id: supplier.id,
        name: supplier.name.clone(),
        role: supplier.role.as_str(),
        parent: supplier.parent.and_then(name_of),
        notice_hours: supplier.notice_hours,
        contract: supplier.contract.clone(),
        contact: supplier.contact.clone(),
        country: supplier.country.clone(),
        transfer_safeguard: supplier.transfer_safeguard.clone(),
        outside_uk_eea: supplier
            .country
            .as_deref()
            .is_some_and(|code| !is_uk_or_eea(code)),
        created_at: supplier.created_at.to_rfc3339(),
        sub_processors: all
            .iter()
            .filter(|child| child.parent == Some(supplier.id))
            .map(|child| child.name.clone())
            .collect(),
        shares: shares
            .iter()
            .filter(|share| share.meta.supplier_id == supplier.id)
            .count(),
        contacts: None,
    }
}
