//! The people at each supplier whom custody writes to.

use custody_core::{ContactRole, Instant, SupplierId};
use rusqlite::{Connection, params};

use super::audit;
use crate::AuditSigner;
use crate::error::{Error, Result};
use crate::types::{AuditDraft, SupplierContact};

pub(super) fn add(
    connection: &mut Connection,
    contact: SupplierContact,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let transaction = connection.transaction()?;
    let known: bool = transaction.query_row(
        "SELECT EXISTS (SELECT 1 FROM suppliers WHERE id = ?1)",
        [contact.supplier.get()],
        |row| row.get(0),
    )?;
    if !known {
        return Err(Error::NotFound("there is no supplier with that id".to_owned()));
    }
    let taken: bool = transaction.query_row(
        "SELECT EXISTS (SELECT 1 FROM supplier_contacts WHERE supplier = ?1 AND email = ?2)",
        params![contact.supplier.get(), contact.email],
        |row| row.get(0),
    )?;
    if taken {
        return Err(Error::Conflict(format!(
            "{} is a contact of this supplier already",
            contact.email
        )));
    }
    transaction.execute(
        "INSERT INTO supplier_contacts (supplier, name, email, role, added_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            contact.supplier.get(),
            contact.name,
            contact.email,
            contact.role.as_str(),
            contact.added_at.unix_seconds()
        ],
    )?;
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(())
}

pub(super) fn remove(
    connection: &mut Connection,
    supplier: SupplierId,
    email: &str,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let transaction = connection.transaction()?;
    let removed = transaction.execute(
        "DELETE FROM supplier_contacts WHERE supplier = ?1 AND email = ?2",
        params![supplier.get(), email],
    )?;
    if removed == 0 {
        return Err(Error::NotFound(format!(
            "{email} is not a contact of this supplier"
        )));
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(())
}

pub(super) fn list(connection: &Connection, supplier: SupplierId) -> Result<Vec<SupplierContact>> {
    let mut statement = connection.prepare_cached(
        "SELECT name, email, role, added_at FROM supplier_contacts WHERE supplier = ?1 ORDER BY id",
    )?;
    let rows = statement.query_map([supplier.get()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, i64>(3)?,
        ))
    })?;
    rows.map(|row| {
        let (name, email, role, added_at) = row?;
        Ok(SupplierContact {
            supplier,
            name,
            email,
            role: ContactRole::parse(&role).map_err(|error| Error::Corrupt(error.to_string()))?,
            added_at: Instant::from_unix_seconds(added_at)
                .map_err(|error| Error::Corrupt(error.to_string()))?,
        })
    })
    .collect()
}
