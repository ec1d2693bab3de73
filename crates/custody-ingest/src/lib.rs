//! Streaming readers for the files custody is given: CRM exports of people and the export files
//! actually sent to suppliers. They detect the encoding and the delimiter, keep a limit on line
//! length, hash the file as it streams, and map columns to custody's fields or to data
//! categories. Memory never grows with the file: rows are handed out one at a time.

mod check;
mod columns;
mod dates;
mod error;
mod headers;
pub mod leak;
mod line_limit;
mod people;
mod person_row;
mod postal;
pub mod regions;
mod sniff;
mod table;
pub mod vcard;

pub use check::{ColumnCheck, PeopleCheck, check_people, use_of};
pub use columns::{ShareColumn, ShareColumns, category_for_header, map_share_columns};
pub use dates::DecidedOrder;
pub use error::{Error, Result};
pub use headers::{HeaderField, classify_header};
pub use people::{
    IgnoredColumn, PeopleColumns, PersonField, PlacedColumn, derived_reference_warning, map_people_columns,
};
pub use person_row::{AddressRow, PersonRow, parse_person_row};
pub use postal::PostalAddress;
pub use sniff::{Prescan, prescan};
pub use table::{Table, TableOptions};
