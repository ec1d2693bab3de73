//! A table of 16-byte slots: built in anonymous memory that the kernel is asked to back with
//! huge pages (2 MiB on x86-64, where it has them), so that a lookup in a table of hundreds of
//! megabytes costs one cache miss instead of a cache miss and a page-table walk (without huge
//! pages it is plain zeroed memory, as a `Vec` would be); or a kept file's, mapped read-only,
//! so that opening it copies and clears nothing.

use memmap2::{Mmap, MmapMut, MmapOptions};

/// Slots; see the module documentation.
#[derive(Debug)]
pub(crate) enum SlotTable {
    /// Built here, in anonymous memory.
    Built(MmapMut),
    /// A kept file's table, mapped read-only from `offset`.
    Mapped { map: Mmap, offset: usize },
}

/// Bytes of a slot.
const SLOT: usize = std::mem::size_of::<u128>();

impl SlotTable {
    /// `slots` zeroed slots (at least one).
    pub(crate) fn zeroed(slots: usize) -> std::io::Result<Self> {
        let bytes = slots
            .max(1)
            .checked_mul(SLOT)
            .ok_or_else(|| std::io::Error::other("the table is too large"))?;
        let map = MmapOptions::new().len(bytes).map_anon()?;
        #[cfg(target_os = "linux")]
        {
            // Only advice: without huge pages the table works the same, more slowly.
            let _advised = map.advise(memmap2::Advice::HugePage);
        }
        Ok(SlotTable::Built(map))
    }

    /// The `slots` slots of `file` from byte `offset` (a multiple of 16), mapped read-only and
    /// read in at once: the page cache's own pages, with nothing copied or cleared.
    pub(crate) fn map_file(file: &std::fs::File, offset: usize, slots: usize) -> std::io::Result<Self> {
        let end = slots
            .checked_mul(SLOT)
            .and_then(|bytes| bytes.checked_add(offset))
            .ok_or_else(|| std::io::Error::other("the table is too large"))?;
        let map = map_kept_file(file, end)?;
        if map.len() != end || !offset.is_multiple_of(SLOT) {
            return Err(std::io::Error::other("the table is not where its header says"));
        }
        Ok(SlotTable::Mapped { map, offset })
    }

    /// The slots as bytes, to write to a file or check.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            SlotTable::Built(map) => map,
            SlotTable::Mapped { map, offset } => map.get(*offset..).unwrap_or_default(),
        }
    }

    /// The slots.
    pub(crate) fn slots(&self) -> &[u128] {
        // A mapping is page-aligned and the table starts a whole number of slots into it, so
        // this cannot fail.
        bytemuck::try_cast_slice(self.bytes()).unwrap_or_default()
    }

    /// The slots, to fill (none for a mapped file's).
    pub(crate) fn slots_mut(&mut self) -> &mut [u128] {
        match self {
            SlotTable::Built(map) => bytemuck::try_cast_slice_mut(map).unwrap_or_default(),
            SlotTable::Mapped { .. } => &mut [],
        }
    }
}

/// A file kept beside the store and its first `N` bytes (its header); `None` when either cannot
/// be read (the file is then rebuilt).
pub(crate) fn open_kept<const N: usize>(file: &std::path::Path) -> Option<(std::fs::File, [u8; N])> {
    use std::io::Read as _;
    let mut opened = std::fs::File::open(file).ok()?;
    let mut header = [0_u8; N];
    opened.read_exact(&mut header).ok()?;
    Some((opened, header))
}

/// Whether a kept file is exactly a header of `header` bytes and a body of `body` bytes, as its
/// header says: one cut short or grown is rebuilt, never mapped.
pub(crate) fn kept_length_is(opened: &std::fs::File, header: usize, body: u64) -> bool {
    let whole = u64::try_from(header)
        .ok()
        .and_then(|header| header.checked_add(body));
    opened
        .metadata()
        .is_ok_and(|metadata| Some(metadata.len()) == whole)
}

/// The first `len` bytes of a file kept beside the store (the identifier index, the people's
/// blocking keys), mapped read-only and read in at once: the page cache's own pages, with
/// nothing copied or cleared.
#[allow(unsafe_code)]
pub(crate) fn map_kept_file(file: &std::fs::File, len: usize) -> std::io::Result<Mmap> {
    // SAFETY: a mapping is undefined behaviour if the file changes under it. A kept file is
    // custody's own, private to its user (0600) in the data directory, and custody never writes
    // one in place: a new one is written under another name and renamed over it, which leaves
    // this file's contents as they were for as long as it is mapped.
    let map = unsafe { MmapOptions::new().len(len).map(file)? };
    #[cfg(target_os = "linux")]
    {
        // Only advice: huge pages where the page cache has them, then every page mapped at
        // once rather than one fault at a time.
        let _advised = map.advise(memmap2::Advice::HugePage);
        let _populated = map.advise(memmap2::Advice::PopulateRead);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_used_only_at_the_length_its_header_gives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kept.bin");
        std::fs::write(&path, [7_u8; 3]).unwrap();
        assert!(open_kept::<4>(&path).is_none(), "shorter than a header");
        assert!(open_kept::<4>(&dir.path().join("absent.bin")).is_none());
        std::fs::write(&path, [7_u8; 10]).unwrap();
        let (opened, header) = open_kept::<4>(&path).unwrap();
        assert_eq!(header, [7; 4]);
        assert!(kept_length_is(&opened, 4, 6));
        assert!(!kept_length_is(&opened, 4, 5), "grown");
        assert!(!kept_length_is(&opened, 4, 7), "cut short");
        assert!(!kept_length_is(&opened, 4, u64::MAX), "a length past any file");
    }

    #[test]
    fn a_table_is_zeroed_slots_of_its_length() {
        let mut table = SlotTable::zeroed(1000).unwrap();
        assert_eq!(table.slots().len(), 1000);
        assert!(table.slots().iter().all(|slot| *slot == 0));
        table.slots_mut()[999] = 7;
        assert_eq!(table.bytes().len(), 16_000);
        assert_eq!(table.slots()[999], 7);
    }
}
