//! PAX extended header records, read the way Go's `archive/tar` reads them.
//!
//! Go is stricter than the `tar` crate in some places (every record must end
//! in its newline, nothing may follow the last one, times must be numbers)
//! and more lenient in others (a NUL may sit in any value but a name's, as
//! SELinux labels in `SCHILY.xattr.security.selinux` do). Where Go stops
//! with "invalid tar header", docker and podman refuse the bundle, so the
//! verifier must stop too; where Go reads on, so must the verifier.

use super::numeric::{is_pax_time, parse_pax_int};

/// Keys whose values stand in for ustar name fields, so a NUL in them would
/// cut a name short in C readers; Go refuses it there and only there.
const NAME_KEYS: [&[u8]; 4] = [b"path", b"linkpath", b"uname", b"gname"];

/// GNU's sparse format 0.0 lists its map as alternating records.
const SPARSE_OFFSET: &[u8] = b"GNU.sparse.offset";
const SPARSE_NUMBYTES: &[u8] = b"GNU.sparse.numbytes";

/// One `"%d %s=%s\n"` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// Why a PAX header does not parse, and where in its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    /// Byte offset of the bad record within the extended header's data.
    pub at: usize,
    pub why: Fault,
}

/// What is wrong with a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// No space ends a length field.
    NoLength,
    /// The length is not a number, or too small to hold a record.
    BadLength(String),
    /// The length reaches past the end of the header's data.
    PastEnd {
        len: usize,
        left: usize,
    },
    /// The byte the length points at as the record's end is not `\n`.
    NoNewline(u8),
    /// No `=` between key and value.
    NoEquals,
    EmptyKey,
    NulInKey,
    /// A NUL inside a value standing in for a ustar name field.
    NulInName(String),
    /// GNU sparse 0.0 offsets and sizes out of turn, or holding a comma.
    SparseMapOrder,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoLength => f.write_str("has no length field (no space)"),
            Self::BadLength(n) => write!(f, "has length `{n}`, too short or not a number"),
            Self::PastEnd { len, left } => write!(
                f,
                "is {len} bytes long by its length field, but only {left} bytes are left \
                 (its newline is missing?)"
            ),
            Self::NoNewline(b) => write!(
                f,
                "does not end in a newline where its length says (found {:?})",
                char::from(*b)
            ),
            Self::NoEquals => f.write_str("has no `=` between key and value"),
            Self::EmptyKey => f.write_str("has an empty key"),
            Self::NulInKey => f.write_str("has a NUL byte in its key"),
            Self::NulInName(key) => write!(f, "has a NUL byte in its `{key}` value"),
            Self::SparseMapOrder => f.write_str(
                "lists GNU sparse offsets and sizes out of turn, or with a comma in one",
            ),
        }
    }
}

/// Every record of an extended header's data, in order. The data must be
/// records and nothing else: padding or a missing newline is malformed.
pub(crate) fn parse(data: &[u8]) -> Result<Vec<Record>, Malformed> {
    let mut records = Vec::new();
    // GNU sparse 0.0 records come in (offset, numbytes) pairs.
    let mut offset_next = true;
    let mut at = 0;
    while at < data.len() {
        let (record, len) = parse_record(&data[at..]).map_err(|why| Malformed { at, why })?;
        if record.key == SPARSE_OFFSET || record.key == SPARSE_NUMBYTES {
            let expected = if offset_next {
                SPARSE_OFFSET
            } else {
                SPARSE_NUMBYTES
            };
            if record.key != expected || record.value.contains(&b',') {
                return Err(Malformed {
                    at,
                    why: Fault::SparseMapOrder,
                });
            }
            offset_next = !offset_next;
        }
        records.push(record);
        at += len;
    }
    Ok(records)
}

/// The record at the start of `data` and its length.
fn parse_record(data: &[u8]) -> Result<(Record, usize), Fault> {
    let space = data
        .iter()
        .position(|&b| b == b' ')
        .ok_or(Fault::NoLength)?;
    let len_field = &data[..space];
    let bad_length = || Fault::BadLength(shown(len_field));
    let len = parse_pax_int(len_field)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n >= 5 && n > space + 1)
        .ok_or_else(bad_length)?;
    if len > data.len() {
        return Err(Fault::PastEnd {
            len,
            left: data.len(),
        });
    }
    let body = &data[space + 1..len - 1];
    let end = data[len - 1];
    if end != b'\n' {
        return Err(Fault::NoNewline(end));
    }
    let eq = body
        .iter()
        .position(|&b| b == b'=')
        .ok_or(Fault::NoEquals)?;
    let (key, value) = (&body[..eq], &body[eq + 1..]);
    check_key_and_value(key, value)?;
    let record = Record {
        key: key.to_vec(),
        value: value.to_vec(),
    };
    Ok((record, len))
}

fn check_key_and_value(key: &[u8], value: &[u8]) -> Result<(), Fault> {
    if key.is_empty() {
        Err(Fault::EmptyKey)
    } else if NAME_KEYS.contains(&key) && value.contains(&0) {
        Err(Fault::NulInName(shown(key)))
    } else if key.contains(&0) {
        Err(Fault::NulInKey)
    } else {
        Ok(())
    }
}

/// What one `x` header changes about the next entry, as Go merges it: the
/// last record for a key wins, and an empty value leaves the ustar field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Overrides {
    pub path: Option<Vec<u8>>,
    pub linkpath: Option<Vec<u8>>,
    /// May be negative: Go parses it signed and refuses it later.
    pub size: Option<i64>,
    /// Owner ids too large for the ustar fields.
    pub uid: Option<i64>,
    pub gid: Option<i64>,
    /// Any `GNU.sparse.*` record.
    pub sparse: bool,
    /// `GNU.sparse.name`: Go lets it name the entry over `path` and a GNU
    /// long name.
    pub sparse_name: Option<Vec<u8>>,
    /// `GNU.sparse.realsize` (format 1.0), else `GNU.sparse.size` (0.x):
    /// the size Go gives the expanded file.
    pub sparse_real_size: Option<i64>,
    /// The first value Go cannot parse; Go refuses the entry.
    pub invalid: Option<InvalidValue>,
}

/// A record Go parses as a number and cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidValue {
    pub key: &'static str,
    pub value: String,
    /// What a readable value looks like.
    pub expected: &'static str,
}

/// How Go reads each typed key of a PAX header.
#[derive(Clone, Copy)]
enum Typed {
    Integer,
    Time,
}

const TYPED_KEYS: [(&str, Typed); 6] = [
    ("size", Typed::Integer),
    ("uid", Typed::Integer),
    ("gid", Typed::Integer),
    ("mtime", Typed::Time),
    ("atime", Typed::Time),
    ("ctime", Typed::Time),
];

impl Overrides {
    pub(crate) fn from_records(records: &[Record]) -> Self {
        let last = |key: &str| {
            records
                .iter()
                .rev()
                .find(|r| r.key == key.as_bytes())
                .map(|r| r.value.as_slice())
                .filter(|v| !v.is_empty())
        };
        Self {
            path: last("path").map(<[u8]>::to_vec),
            linkpath: last("linkpath").map(<[u8]>::to_vec),
            size: last("size").and_then(parse_pax_int),
            uid: last("uid").and_then(parse_pax_int),
            gid: last("gid").and_then(parse_pax_int),
            sparse: records.iter().any(|r| r.key.starts_with(b"GNU.sparse.")),
            sparse_name: last("GNU.sparse.name").map(<[u8]>::to_vec),
            sparse_real_size: last("GNU.sparse.realsize")
                .or_else(|| last("GNU.sparse.size"))
                .and_then(parse_pax_int),
            invalid: TYPED_KEYS.iter().find_map(|&(key, typed)| {
                let value = last(key)?;
                let (readable, expected) = match typed {
                    Typed::Integer => (parse_pax_int(value).is_some(), "a decimal integer"),
                    Typed::Time => (
                        is_pax_time(value),
                        "decimal seconds, optionally with a fraction",
                    ),
                };
                (!readable).then(|| InvalidValue {
                    key,
                    value: shown(value),
                    expected,
                })
            }),
        }
    }

    /// Whether the header names the entry, its link or its size.
    pub(crate) fn names_or_sizes(&self) -> bool {
        self.path.is_some() || self.linkpath.is_some() || self.size.is_some()
    }
}

/// Bytes for a message: lossy UTF-8, escaped, at most 64 characters.
pub(crate) fn shown(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes).escape_debug().collect();
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &[u8], value: &[u8]) -> Record {
        Record {
            key: key.to_vec(),
            value: value.to_vec(),
        }
    }

    #[test]
    fn records_that_go_reads() {
        assert_eq!(
            parse(b"19 path=/etc/hosts\n6 k=v\n"),
            Ok(vec![record(b"path", b"/etc/hosts"), record(b"k", b"v")])
        );
        // The length decides; `=`, newlines and NULs inside a value are data.
        assert_eq!(
            parse(b"18 foo=b=\nar=\n==\x00\n"),
            Ok(vec![record(b"foo", b"b=\nar=\n==\x00")])
        );
        // An SELinux label keeps its terminating NUL.
        let label = b"SCHILY.xattr.security.selinux";
        let body = [&label[..], b"=system_u:object_r:container_file_t:s0\0"].concat();
        let data = [format!("{} ", body.len() + 4).as_bytes(), &body, b"\n"].concat();
        assert_eq!(
            parse(&data),
            Ok(vec![record(
                label,
                b"system_u:object_r:container_file_t:s0\0"
            )])
        );
        assert_eq!(parse(b""), Ok(vec![]));
    }

    #[test]
    fn records_that_go_refuses() {
        for (data, at, why) in [
            (&b"6 k=1 "[..], 0, Fault::NoNewline(b' ')),
            (
                b"19 path=/etc/hosts",
                0,
                Fault::PastEnd { len: 19, left: 18 },
            ),
            (b"6 k=v\n6 k=v", 6, Fault::PastEnd { len: 6, left: 5 }),
            (b"6 k=v\n\0\0\0\0", 6, Fault::NoLength),
            (b"1 k=1\n", 0, Fault::BadLength("1".into())),
            (b"6_k=1\n", 0, Fault::NoLength),
            (b"6 k~1\n", 0, Fault::NoEquals),
            (b"5 =\n\n", 0, Fault::EmptyKey),
            (b"8 k\0y=v\n", 0, Fault::NulInKey),
            (b"10 path=\0\n", 0, Fault::NulInName("path".into())),
            (b"3 k=1\n", 0, Fault::BadLength("3".into())),
        ] {
            assert_eq!(
                parse(data),
                Err(Malformed { at, why }),
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
        assert_eq!(
            parse(b"25 GNU.sparse.numbytes=1\n").map_err(|m| m.why),
            Err(Fault::SparseMapOrder)
        );
    }

    #[test]
    fn overrides_follow_go_merge() {
        let o = Overrides::from_records(&[
            record(b"path", b"decoy"),
            record(b"path", b""),
            record(b"mtime", b"not-a-time"),
            record(b"mtime", b"1700000000.5"),
            record(b"size", b"-3"),
        ]);
        assert_eq!(o.path, None, "an empty value restores the ustar name");
        assert_eq!(o.invalid, None, "only the last mtime counts");
        assert_eq!(o.size, Some(-3));

        let o = Overrides::from_records(&[record(b"uid", b"0"), record(b"ctime", b"1.2.3")]);
        let invalid = o.invalid.expect("ctime does not parse");
        assert_eq!((invalid.key, invalid.value.as_str()), ("ctime", "1.2.3"));
    }
}
