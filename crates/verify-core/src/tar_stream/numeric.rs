//! Numbers in tar headers and PAX records, read exactly as Go's
//! `archive/tar` reads them: docker, containerd, skopeo and podman stop
//! with "invalid tar header" wherever these return `None`.

use std::ops::Range;

/// The header fields Go parses as numbers in every format.
const V7_FIELDS: [(&str, Range<usize>); 5] = [
    ("mode", 100..108),
    ("uid", 108..116),
    ("gid", 116..124),
    ("size", 124..136),
    ("mtime", 136..148),
];

/// The device numbers, parsed once the magic names a ustar, GNU or star header.
const DEVICE_FIELDS: [(&str, Range<usize>); 2] = [("devmajor", 329..337), ("devminor", 337..345)];

/// star keeps its times where ustar has the end of the name prefix; Go
/// parses them (unlike a GNU header's, whose failure it forgives).
const STAR_TIME_FIELDS: [(&str, Range<usize>); 2] = [("atime", 476..488), ("ctime", 488..500)];

/// The size field of a header block.
const SIZE_FIELD: Range<usize> = 124..136;

/// The header layouts Go tells apart by their magic, for which fields it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// No known magic: only the V7 fields.
    V7,
    /// `ustar\0`, any version.
    Ustar,
    /// `ustar\0` with the `tar\0` trailer.
    Star,
    /// `ustar ` with version ` \0`.
    Gnu,
}

impl Layout {
    pub(crate) fn of(block: &[u8; 512]) -> Self {
        let magic = &block[257..263];
        if magic == b"ustar\0" && &block[508..512] == b"tar\0" {
            Self::Star
        } else if magic == b"ustar\0" {
            Self::Ustar
        } else if magic == b"ustar " && &block[263..265] == b" \0" {
            Self::Gnu
        } else {
            Self::V7
        }
    }
}

/// A header field Go's reader cannot parse as a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadField {
    pub name: &'static str,
    /// What is wrong with it.
    pub why: &'static str,
    /// The field: in hex when binary, as text otherwise.
    pub found: String,
}

impl BadField {
    fn new(name: &'static str, raw: &[u8]) -> Self {
        let (why, found) = match raw.first() {
            Some(&first) if first & 0x80 != 0 => {
                let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                let why = if first & 0x40 != 0 {
                    "is a negative base-256 number too large for 64 bits"
                } else {
                    "is a base-256 number too large for 64 bits"
                };
                (why, format!("base-256 {hex}"))
            }
            _ => (
                "is not octal digits",
                String::from_utf8_lossy(raw).escape_debug().collect(),
            ),
        };
        Self { name, why, found }
    }
}

/// The size field, once every numeric field Go reads in this header parses.
pub(crate) fn header_size(block: &[u8; 512]) -> Result<i64, BadField> {
    if let Some((name, raw)) = unparsable_field(block) {
        return Err(BadField::new(name, raw));
    }
    let size = &block[SIZE_FIELD];
    parse_numeric(size).ok_or_else(|| BadField::new("size", size))
}

/// The first numeric field Go's reader cannot parse in this header: its
/// name and raw bytes.
fn unparsable_field(block: &[u8; 512]) -> Option<(&'static str, &[u8])> {
    let layout = Layout::of(block);
    let devices = if layout == Layout::V7 {
        &[][..]
    } else {
        &DEVICE_FIELDS[..]
    };
    let star_times = if layout == Layout::Star {
        &STAR_TIME_FIELDS[..]
    } else {
        &[][..]
    };
    V7_FIELDS
        .iter()
        .chain(devices)
        .chain(star_times)
        .find(|(_, range)| parse_numeric(&block[range.clone()]).is_none())
        .map(|(name, range)| (*name, &block[range.clone()]))
}

/// A header number: base-256 two's complement when the first byte's high
/// bit is set (so it may be negative), octal text otherwise.
pub(crate) fn parse_numeric(field: &[u8]) -> Option<i64> {
    match field.first() {
        Some(&first) if first & 0x80 != 0 => parse_base256(field),
        _ => parse_octal(field).and_then(|n| i64::try_from(n).ok()),
    }
}

/// The GNU binary form: the bit after the marker bit is the sign, and the
/// value must fit in 63 bits.
fn parse_base256(field: &[u8]) -> Option<i64> {
    let negative = field.first().is_some_and(|&b| b & 0x40 != 0);
    let invert = if negative { 0xff } else { 0x00 };
    let mut magnitude: u64 = 0;
    for (i, &byte) in field.iter().enumerate() {
        let mut byte = byte ^ invert;
        if i == 0 {
            byte &= 0x7f;
        }
        if magnitude >> 56 != 0 {
            return None;
        }
        magnitude = magnitude << 8 | u64::from(byte);
    }
    let value = i64::try_from(magnitude).ok()?;
    // Inverting the bytes of a negative number gives -value - 1.
    Some(if negative { !value } else { value })
}

/// Octal digits with spaces and NULs trimmed from both ends and the rest cut
/// at the first NUL; an empty field is zero. No sign, nothing else inside.
pub(crate) fn parse_octal(field: &[u8]) -> Option<u64> {
    let is_pad = |b: &u8| *b == b' ' || *b == 0;
    let Some(start) = field.iter().position(|b| !is_pad(b)) else {
        return Some(0);
    };
    let end = field
        .iter()
        .rposition(|b| !is_pad(b))
        .map_or(start, |e| e + 1);
    let trimmed = &field[start..end];
    let digits = &trimmed[..trimmed
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(trimmed.len())];
    if !digits.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(8)?.checked_add(u64::from(d - b'0'))
    })
}

/// A PAX decimal integer (`size`, `uid`, `gid`): an optional sign, then one
/// or more digits, within 64 bits.
pub(crate) fn parse_pax_int(value: &[u8]) -> Option<i64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Whether a PAX time (`mtime`, `atime`, `ctime`) reads: whole seconds as a
/// PAX integer, then optionally a `.` and only digits.
pub(crate) fn is_pax_time(value: &[u8]) -> bool {
    let (seconds, fraction) = match value.iter().position(|&b| b == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, &[][..]),
    };
    parse_pax_int(seconds).is_some() && fraction.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fields_as_go_reads_them() {
        for (field, want) in [
            (&b"0000644\0"[..], Some(0o644)),
            (b"  644 \0\0", Some(0o644)),
            (b"\0\0\0\0\0\0\0\0", Some(0)),
            (b"        ", Some(0)),
            (b"12\0 34\0\0", Some(0o12)),
            (b"777777777777", Some(0o777_777_777_777)),
            (b"0 0\0\0\0\0\0", None),
            (b"+644\0\0\0\0", None),
            (b"0000648\0", None),
            (b"rw-r--r-", None),
        ] {
            assert_eq!(
                parse_octal(field),
                want,
                "{:?}",
                String::from_utf8_lossy(field)
            );
        }
    }

    #[test]
    fn base256_fields_may_be_negative() {
        let mut minus_one = [0xffu8; 12];
        assert_eq!(parse_numeric(&minus_one), Some(-1));
        minus_one[11] = 0xfe;
        assert_eq!(parse_numeric(&minus_one), Some(-2));
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[4..].copy_from_slice(&(1u64 << 40).to_be_bytes());
        assert_eq!(parse_numeric(&big), Some(1 << 40));
        // 64 bits of magnitude do not fit in a signed 64-bit size.
        let mut over = [0u8; 12];
        over[0] = 0x80;
        over[4] = 0x80;
        assert_eq!(parse_numeric(&over), None);
        // Nor does anything in the four bytes before the last eight.
        let mut wide = [0u8; 12];
        wide[0] = 0x80;
        wide[3] = 1;
        assert_eq!(parse_numeric(&wide), None);
    }

    #[test]
    fn pax_numbers_and_times() {
        assert_eq!(parse_pax_int(b"000999"), Some(999));
        assert_eq!(parse_pax_int(b"+5"), Some(5));
        assert_eq!(parse_pax_int(b"-5"), Some(-5));
        for bad in ["", "-", "1_000", " 5", "5 ", "0x10", "99999999999999999999"] {
            assert_eq!(parse_pax_int(bad.as_bytes()), None, "{bad:?}");
        }
        for good in [
            "1350244992.023960108",
            "-1.5",
            "0",
            "1.",
            "+7.0000000000001",
        ] {
            assert!(is_pax_time(good.as_bytes()), "{good:?}");
        }
        for bad in ["", ".5", "1.2.3", "1.-5", "1e9", "yesterday", "1.5x"] {
            assert!(!is_pax_time(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn fields_checked_follow_the_layout() {
        let mut block = [0u8; 512];
        block[100..108].copy_from_slice(b"0000644\0");
        assert_eq!(unparsable_field(&block), None);
        // Device numbers count only once the magic says ustar.
        block[329..337].copy_from_slice(b"garbage!");
        assert_eq!(header_size(&block), Ok(0));
        block[257..265].copy_from_slice(b"ustar\x0000");
        assert_eq!(unparsable_field(&block).map(|f| f.0), Some("devmajor"));
        block[329..337].fill(0);
        block[100..108].copy_from_slice(b"rw-r--r-");
        assert_eq!(unparsable_field(&block).map(|f| f.0), Some("mode"));

        // Go's `neg-size.tar`: a negative size past 64 bits, read unsigned
        // by the tar crate as 17595691369898209748.
        block[100..108].fill(0);
        block[124..136].copy_from_slice(&[
            0xf4, 0x31, 0x30, 0x31, 0xf4, 0x30, 0x74, 0x13, 0x30, 0x30, 0x71, 0xd4,
        ]);
        let bad = header_size(&block).expect_err("no 64-bit size");
        assert_eq!(bad.name, "size");
        assert!(bad.why.contains("negative"), "{}", bad.why);
        assert_eq!(bad.found, "base-256 f4313031f4307413303071d4");
    }
}
