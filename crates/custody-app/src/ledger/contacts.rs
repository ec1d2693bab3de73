//! The people at each supplier whom custody writes to: its security, data-protection and
//! account contacts (their work addresses; the supplier's staff, not members).

use custody_core::{ContactRole, normalise_email};
use custody_store::SupplierContact;

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};
use crate::ledger::suppliers::find;

/// Contacts one supplier may have.
pub const CONTACTS_MAX: usize = 20;

/// A contact to add, as the user gave it.
#[derive(Debug, Clone)]
pub struct ContactInput {
    /// Their name.
    pub name: String,
    /// Their work address.
    pub email: String,
    /// What they are the contact for.
    pub role: ContactRole,
}

/// Adds a contact at the supplier named `supplier` (audited).
pub fn add(ledger: &mut Ledger, supplier: &str, input: ContactInput) -> Result<SupplierContact> {
    let supplier = find(ledger, supplier)?;
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.contains(['\n', '\r', '\t']) {
        return Err(Error::Invalid(format!(
            "--name {:?}: expected the contact's name on one line",
            input.name
        )));
    }
    crate::limits::short_text("name", &name)?;
    crate::limits::short_text("email", &input.email)?;
    let email = normalise_email(&input.email)
        .ok_or_else(|| Error::Invalid(format!("--email {:?} is not an email address", input.email)))?;
    let contact = SupplierContact {
        supplier: supplier.id,
        name,
        email,
        role: input.role,
        added_at: ledger.now(),
    };
    if ledger.store.supplier_contacts(supplier.id)?.len() >= CONTACTS_MAX {
        return Err(Error::Invalid(format!(
            "{} has {CONTACTS_MAX} contacts already: remove one first",
            supplier.name
        )));
    }
    // The log keeps the address's keyed hash, not the address: whoever holds the key can tell
    // which address was added (mail to suppliers goes where the contacts say), nobody else can.
    let draft = ledger.draft(
        "supplier.contact.add",
        &format!("supplier:{}", supplier.id),
        serde_json::json!({ "role": contact.role.as_str(), "address_hash": address_hash(ledger, &contact.email) }),
    );
    ledger
        .store
        .add_supplier_contact(contact.clone(), draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    Ok(contact)
}

/// Removes the contact with address `email` from the supplier named `supplier` (audited).
pub fn remove(ledger: &mut Ledger, supplier: &str, email: &str) -> Result<SupplierContact> {
    let supplier = find(ledger, supplier)?;
    let wanted = normalise_email(email)
        .ok_or_else(|| Error::Invalid(format!("--email {email:?} is not an email address")))?;
    let contact = ledger
        .store
        .supplier_contacts(supplier.id)?
        .into_iter()
        .find(|contact| contact.email == wanted)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "{wanted} is not a contact of {}; `custody supplier contact list {:?}` shows them",
                supplier.name, supplier.name
            ))
        })?;
    let draft = ledger.draft(
        "supplier.contact.remove",
        &format!("supplier:{}", supplier.id),
        serde_json::json!({ "role": contact.role.as_str(), "address_hash": address_hash(ledger, &contact.email) }),
    );
    ledger.store.remove_supplier_contact(
        supplier.id,
        &contact.email,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    Ok(contact)
}

/// The contacts of the supplier named `supplier`, in the order they were added.
pub fn list(ledger: &Ledger, supplier: &str) -> Result<Vec<SupplierContact>> {
    let supplier = find(ledger, supplier)?;
    Ok(ledger.store.supplier_contacts(supplier.id)?)
}

/// The keyed hash of a contact's address, as person lookups by address are logged.
fn address_hash(ledger: &Ledger, email: &str) -> String {
    custody_vault::hex(
        &ledger
            .vault
            .identifier_hash(custody_core::IdentifierKind::EmailStrict.tag(), email),
    )
}
