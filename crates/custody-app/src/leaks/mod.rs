//! Leaked files: reading them, matching them to the ledger exactly and by linkage, and the evidence they give.

pub mod leak;
pub(crate) mod leak_columns;
pub mod leak_evidence;
pub(crate) mod leak_fields;
pub mod leak_index;
pub mod leak_index_file;
pub(crate) mod leak_links;
pub mod leak_rank;
pub(crate) mod leak_rows;
pub(crate) mod leak_run;
pub(crate) mod leak_table;
pub mod linkage;
pub(crate) mod linkage_blocks;
pub(crate) mod linkage_groups;
pub mod linkage_model;
pub(crate) mod linkage_scan;

/// Removes the indexes kept beside a store (identifiers, blocking keys), which answer to that
/// store alone: after a move or a restore, the next match builds them again.
pub fn remove_kept_indexes(dir: &std::path::Path) {
    for name in [leak_index_file::FILE_NAME, linkage_blocks::FILE_NAME] {
        let _ = std::fs::remove_file(dir.join(name));
    }
}
