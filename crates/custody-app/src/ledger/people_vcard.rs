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

/// Turns the table's name and lines back into the vCard file's in what the import says.
pub(crate) struct Renamer<'a> {
    csv: String,
    vcf: String,
    table: &'a VcardTable,
}

impl Renamer<'_> {
    /// The vCard line of a table line: its card's `BEGIN:VCARD` (line 1 is the header row).
    pub(crate) fn line(&self, line: u64) -> u64 {
        line.checked_sub(2)
            .and_then(|row| self.table.rows.get(usize::try_from(row).ok()?))
            .map_or(line, |(line, _)| *line)
    }

    /// A message with `TABLE, line N` turned into `VCARD, line M`, and the table's name into the
    /// vCard file's wherever it stands.
    pub(crate) fn text(&self, text: &str) -> String {
        let marker = format!("{}, line ", self.csv);
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(&marker) {
            out.push_str(rest.get(..at).unwrap_or(""));
            let after = rest.get(at + marker.len()..).unwrap_or("");
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let line = after.get(..digits).and_then(|number| number.parse::<u64>().ok());
            out.push_str(&self.vcf);
            if let Some(line) = line {
                out.push_str(&format!(", line {}", self.line(line)));
            } else {
                out.push_str(", line ");
            }
            rest = after.get(digits..).unwrap_or("");
        }
        out.push_str(rest);
        out.replace(&self.csv, &self.vcf)
    }
}

/// Runs `work` on the file, or on its cards as a table when it is a vCard file; `rename`
/// turns the table's name and lines back into the vCard file's in what `work` returns.
pub(crate) fn as_table<T>(
    data_dir: &Path,
    path: &Path,
    work: impl FnOnce(&Path) -> Result<T>,
    rename: impl FnOnce(T, &Renamer<'_>) -> T,
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
    let renamer = Renamer {
        csv: csv.display().to_string(),
        vcf: path.display().to_string(),
        table: &table,
    };
    match result {
        Ok(value) => Ok(rename(value, &renamer)),
        Err(Error::Ingest(custody_ingest::Error::Content {
            mut location,
            message,
        })) => {
            if location.file == renamer.csv {
                location.file.clone_from(&renamer.vcf);
                location.line = location.line.map(|line| renamer.line(line));
            }
            Err(Error::Ingest(custody_ingest::Error::Content {
                location,
                message: renamer.text(&message),
            }))
        }
        Err(other) => Err(Error::Invalid(renamer.text(&other.to_string()))),
    }
}
