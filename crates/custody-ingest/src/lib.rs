//! Streaming readers for the files custody is given: CRM exports of people and the export files
//! actually sent to suppliers. They detect the encoding and the delimiter, keep a limit on line
//! length, hash the file as it streams, and map columns to custody's fields or to data
//! categories. Memory never grows with the file: rows are handed out one at a time.

mod check;
mod columns;
mod dates;
mod error;
pub mod leak;
mod people;
mod table;

pub use check::{ColumnCheck, PeopleCheck, check_people};
pub use columns::{ShareColumn, ShareColumns, category_for_header, map_share_columns};
pub use dates::{DecidedOrder, decide_date_order};
pub use error::{Error, Result};
pub use people::{PeopleColumns, PersonField, PersonRow, map_people_columns, parse_person_row};
pub use table::{Table, TableOptions};
