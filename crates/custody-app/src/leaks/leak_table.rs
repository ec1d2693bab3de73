//! A table of 16-byte slots in anonymous memory that the kernel is asked to back with huge
//! pages (2 MiB on x86-64, where it has them): a lookup in a table of hundreds of megabytes then
//! costs one cache miss instead of a cache miss and a page-table walk, and filling it from a file
//! takes a few hundred page faults instead of tens of thousands. Without huge pages it is plain
//! zeroed memory, as a `Vec` would be.

use memmap2::{MmapMut, MmapOptions};

/// Zeroed slots; see the module documentation.
#[derive(Debug)]
pub(crate) struct SlotTable {
    map: MmapMut,
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
        Ok(SlotTable { map })
    }

    /// The slots.
    pub(crate) fn slots(&self) -> &[u128] {
        // A mapping is page-aligned and a whole number of slots long, so this cannot fail.
        bytemuck::try_cast_slice(&self.map).unwrap_or_default()
    }

    /// The slots, to fill.
    pub(crate) fn slots_mut(&mut self) -> &mut [u128] {
        bytemuck::try_cast_slice_mut(&mut self.map).unwrap_or_default()
    }

    /// The slots as bytes, to write to a file or read one into.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// The slots as bytes, to read a file into.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
