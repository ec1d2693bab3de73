//! The people at each supplier whom custody writes to.

use custody_core::{ContactRole, SupplierId};
use postgres::Transaction;

use super::{Db, instant};
use crate::error::{Error, Result};
use crate::types::SupplierContact;

const SAME_ADDRESS: &str = "lower(email COLLATE \"C\") = lower($2::text COLLATE \"C\")";

pub(super) fn add(transaction: &mut Transaction<'_>, contact: SupplierContact) -> Result<()> {
    let known: bool = transaction
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM suppliers WHERE id = $1)",
            &[&contact.supplier.get()],
        )?
        .try_get(0)?;
    if !known {
        return Err(Error::NotFound("there is no supplier with that id".to_owned()));
    }
    let taken: bool = transaction
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM supplier_contacts WHERE supplier = $1 AND {SAME_ADDRESS})"
            ),
            &[&contact.supplier.get(), &contact.email],
        )?
        .try_get(0)?;
    if taken {
        return Err(Error::Conflict(format!(
            "{} is a contact of this supplier already",
            contact.email
        )));
    }
    transaction.execute(
        "INSERT INTO supplier_contacts (supplier, name, email, role, added_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            &contact.supplier.get(),
            &contact.name,
            &contact.email,
            &contact.role.as_str(),
            &contact.added_at.unix_seconds(),
        ],
    )?;
    Ok(())
}

pub(super) fn remove(transaction: &mut Transaction<'_>, supplier: SupplierId, email: &str) -> Result<()> {
    let removed = transaction.execute(
        &format!("DELETE FROM supplier_contacts WHERE supplier = $1 AND {SAME_ADDRESS}"),
        &[&supplier.get(), &email],
    )?;
    if removed == 0 {
        return Err(Error::NotFound(format!(
            "{email} is not a contact of this supplier"
        )));
    }
    Ok(())
}

pub(super) fn list(client: &mut Db<'_>, supplier: SupplierId) -> Result<Vec<SupplierContact>> {
    client
        .query(
            "SELECT name, email, role, added_at FROM supplier_contacts WHERE supplier = $1 ORDER BY id",
            &[&supplier.get()],
        )?
        .iter()
        .map(|row| {
            let role: String = row.try_get(2)?;
            Ok(SupplierContact {
                supplier,
                name: row.try_get(0)?,
                email: row.try_get(1)?,
                role: ContactRole::parse(&role).map_err(|error| Error::Corrupt(error.to_string()))?,
                added_at: instant(row.try_get(3)?)?,
            })
        })
        .collect()
}
