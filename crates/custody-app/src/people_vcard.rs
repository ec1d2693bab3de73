//! Address books exported as vCards, imported as any CRM export is: the cards are read into a
//! table ([`custody_ingest::vcard`]), written to a private CSV file in a fresh folder of the
//! data directory, imported or previewed from there, and the folder removed whatever the
//! outcome. Errors and warnings name the vCard file, and a row's line is its card's
//! `BEGIN:VCARD` line.

use std::path::{Path, PathBuf};

use custody_ingest::vcard::{VcardTable, is_vcard, read_vcards};

use crate::error::{Error, Result};

fn write_csv(table: &VcardTable, path: &Path) -> Result<()> {
    let file = crate::files::create_new_private(path).map_err(|error| Error::io(path, error))?;
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let failed = |error: csv::Error| Error::Invalid(format!("{}: {error}", path.display()));
    writer.write_record(&table.headers).map_err(failed)?;
    for (_, values) in &table.rows {
        writer.write_record(values).map_err(failed)?;
    }
    writer.flush().map_err(|error| Error::io(path, error))
}

/// Runs `work` on the file, or on its cards as a table when it is a vCard file; `rename`
/// turns the table's name back into the vCard file's in what `work` returns.
pub(crate) fn as_table<T>(
    data_dir: &Path,
    path: &Path,
    work: impl FnOnce(&Path) -> Result<T>,
    rename: impl FnOnce(T, &dyn Fn(&str) -> String) -> T,
) -> Result<T> {
    if !is_vcard(path) {
        return work(path);
    }
    let table = read_vcards(path)?;
    // Folders a killed import left behind are removed first.
    let folder =
        crate::files::private_folder(data_dir, "vcard").map_err(|error| Error::io(data_dir, error))?;
    let csv: PathBuf = folder.join("cards.csv");
    let result = write_csv(&table, &csv).and_then(|()| work(&csv));
    let _removed = std::fs::remove_dir_all(&folder);
    let shown_csv = csv.display().to_string();
    let shown = path.display().to_string();
    let fix = |text: &str| text.replace(&shown_csv, &shown);
    match result {
        Ok(value) => Ok(rename(value, &fix)),
        Err(Error::Ingest(custody_ingest::Error::Content {
            mut location,
            message,
        })) => {
            // Row N of the table is data line N - 1: its card began on the line kept for it.
            if location.file == shown_csv {
                location.file.clone_from(&shown);
                location.line = location
                    .line
                    .and_then(|line| line.checked_sub(2))
                    .and_then(|row| table.rows.get(usize::try_from(row).ok()?))
                    .map(|(line, _)| *line);
            }
            Err(Error::Ingest(custody_ingest::Error::Content {
                location,
                message: fix(&message),
            }))
        }
        Err(other) => Err(Error::Invalid(fix(&other.to_string()))),
    }
}
