//! Leaked files: reading them, matching them to the ledger exactly and by linkage, and the evidence they give.

pub mod leak;
pub(crate) mod leak_columns;
pub mod leak_evidence;
pub mod leak_index;
pub mod leak_index_file;
pub(crate) mod leak_links;
pub mod leak_rank;
pub(crate) mod leak_rows;
pub(crate) mod leak_run;
pub mod linkage;
pub mod linkage_model;
pub(crate) mod linkage_scan;
