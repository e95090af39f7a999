//! Old GNU sparse files (type `S`). The map of data regions sits in the
//! header and, when it does not fit there, in extension blocks between the
//! header and the packed data. A reader that does not know them reads the
//! extension blocks as headers, which do not check out; Go reads the map and
//! fills the holes with zeros. Either way the content is not the packed
//! bytes, so the entry is never used, but the reader must step over the
//! map to stay in step with Go, and stop where Go refuses the map.

use std::ops::Range;

use super::BLOCK;
use super::numeric::{Layout, parse_numeric};

/// Four region slots in the header, then the "more follow" flag.
const HEADER_SLOTS: Range<usize> = 386..482;
const HEADER_MORE: usize = 482;
/// The size of the file once its holes are filled.
const REAL_SIZE: Range<usize> = 483..495;
/// Twenty-one slots in each extension block, then its "more follow" flag.
const EXTENSION_SLOTS: Range<usize> = 0..504;
const EXTENSION_MORE: usize = 504;
/// A slot: offset and length, 12 bytes each.
const SLOT: usize = 24;

/// An old GNU sparse map being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SparseMap {
    /// Packed data bytes that follow the map.
    pub data: u64,
    /// Whether an extension block comes next.
    pub more: bool,
    /// Extension blocks read so far, in bytes.
    pub extension_bytes: u64,
    real_size: i64,
    /// Where the last region ended: regions must come in order.
    end: i64,
}

impl SparseMap {
    /// The map as the header starts it, or why Go refuses the entry.
    pub(crate) fn from_header(block: &[u8; BLOCK], data: u64) -> Result<Self, &'static str> {
        if Layout::of(block) != Layout::Gnu {
            // star's sparse header uses the same type with another layout.
            return Err("it has type `S` without the GNU magic, a sparse layout Go does not read");
        }
        let real_size = parse_numeric(&block[REAL_SIZE])
            .filter(|&n| n >= 0)
            .ok_or("its real size is not a number of 0 or more")?;
        let mut map = Self {
            data,
            more: false,
            extension_bytes: 0,
            real_size,
            end: 0,
        };
        map.read(&block[HEADER_SLOTS], block[HEADER_MORE])?;
        Ok(map)
    }

    /// Reads one extension block.
    pub(crate) fn extension(&mut self, block: &[u8; BLOCK]) -> Result<(), &'static str> {
        self.extension_bytes += BLOCK as u64;
        self.read(&block[EXTENSION_SLOTS], block[EXTENSION_MORE])
    }

    fn read(&mut self, slots: &[u8], more: u8) -> Result<(), &'static str> {
        for slot in slots.chunks_exact(SLOT) {
            // As in GNU and BSD tar, a slot starting with NUL ends the list.
            if slot[0] == 0 {
                break;
            }
            let (Some(offset), Some(length)) =
                (parse_numeric(&slot[..12]), parse_numeric(&slot[12..]))
            else {
                return Err("a region of its sparse map is not a number");
            };
            self.end = match offset.checked_add(length) {
                Some(end) if offset >= self.end && length >= 0 && end <= self.real_size => end,
                _ => {
                    return Err(
                        "its sparse map has regions that overlap, run backwards or pass its real size",
                    );
                }
            };
        }
        self.more = more != 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gnu_header(real_size: &[u8], slots: &[(&[u8], &[u8])], more: bool) -> [u8; BLOCK] {
        let mut block = [0u8; BLOCK];
        block[257..265].copy_from_slice(b"ustar  \0");
        block[REAL_SIZE.start..REAL_SIZE.start + real_size.len()].copy_from_slice(real_size);
        for (i, (offset, length)) in slots.iter().enumerate() {
            let at = HEADER_SLOTS.start + i * SLOT;
            block[at..at + offset.len()].copy_from_slice(offset);
            block[at + 12..at + 12 + length.len()].copy_from_slice(length);
        }
        block[HEADER_MORE] = u8::from(more);
        block
    }

    #[test]
    fn reads_the_header_slots() {
        let block = gnu_header(b"00000001000", &[(b"00000000000", b"00000000010")], true);
        let map = SparseMap::from_header(&block, 8).expect("a valid map");
        assert!(map.more);
        assert_eq!(map.end, 8);

        let mut ustar = block;
        ustar[257..265].copy_from_slice(b"ustar\x0000");
        assert!(SparseMap::from_header(&ustar, 8).is_err());
    }

    #[test]
    fn refuses_what_go_refuses() {
        let past_the_end = gnu_header(b"00000000010", &[(b"00000000004", b"00000000010")], false);
        assert!(SparseMap::from_header(&past_the_end, 8).is_err());
        let backwards = gnu_header(
            b"00000001000",
            &[(b"00000000100", b"1"), (b"00000000010", b"1")],
            false,
        );
        assert!(SparseMap::from_header(&backwards, 2).is_err());
        let not_a_number = gnu_header(b"00000001000", &[(b"12x", b"1")], false);
        assert!(SparseMap::from_header(&not_a_number, 1).is_err());
        let no_real_size = gnu_header(b"zz", &[], false);
        assert!(SparseMap::from_header(&no_real_size, 0).is_err());
    }

    #[test]
    fn extension_blocks_continue_the_map() {
        let block = gnu_header(b"00000001000", &[(b"0", b"10")], true);
        let mut map = SparseMap::from_header(&block, 0o20).expect("a valid map");
        let mut ext = [0u8; BLOCK];
        ext[..3].copy_from_slice(b"100");
        ext[12..14].copy_from_slice(b"10");
        map.extension(&ext).expect("a valid extension");
        assert!(!map.more);
        assert_eq!((map.end, map.extension_bytes), (0o110, 512));
        // A region before the end of the last one is refused.
        assert!(map.extension(&ext).is_err());
    }
}
