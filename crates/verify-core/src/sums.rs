//! "Recorded hash" sidecar files: the `bundle.tar.sha256`, `SHA256SUMS` or
//! saved `certutil` output that travels next to a bundle.
//!
//! People make these with whatever their platform ships, so several formats
//! and encodings are accepted. A line that fits none of them is an error
//! naming the line rather than a skip: the skipped line could be the one that
//! recorded the bundle's digest, and silently verifying against a different
//! line would be worse than refusing.

use std::borrow::Cow;

use serde::Serialize;

use crate::digest::Sha256;

/// Largest input [`parse`] accepts. Real sums files are a few kilobytes; a
/// larger input is almost certainly the bundle itself picked by mistake, and
/// the caller can stop reading at this size.
pub const MAX_SUMS_FILE_LEN: usize = 1024 * 1024;

/// Names of the files beside a bundle that may record its SHA-256, most
/// specific first; `{}` stands for the bundle's file name. `airlock verify`
/// looks for these next to the bundle and the page pairs files dropped
/// together by them (its copy in `web/app.js` is checked against this one by
/// `tests/faces_agree.rs`, since the page picks before any wasm is loaded).
pub const SIDECAR_NAMES: [&str; 7] = [
    "{}.sha256",
    "{}.sha256sum",
    "{}.sha256.txt",
    "{}.certutil.txt",
    "SHA256SUMS",
    "SHA256SUMS.txt",
    "sha256sums.txt",
];

/// The [`SIDECAR_NAMES`] for a bundle named `bundle_name`, in the order they
/// are tried.
pub fn sidecar_names(bundle_name: &str) -> Vec<String> {
    SIDECAR_NAMES
        .iter()
        .map(|pattern| pattern.replace("{}", bundle_name))
        .collect()
}

/// The bundle name a sidecar named `sidecar_name` is for, by the first of
/// the [`SIDECAR_NAMES`] that embed it (`x.tar.sha256` → `x.tar`); `None`
/// for names such as `SHA256SUMS` that do not say.
pub fn bundle_name_of(sidecar_name: &str) -> Option<&str> {
    SIDECAR_NAMES
        .iter()
        .filter_map(|pattern| pattern.strip_prefix("{}"))
        .find_map(|suffix| sidecar_name.strip_suffix(suffix))
}

/// One recorded digest, with the file name it was recorded for when the
/// format names one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordedSum {
    /// The recorded SHA-256 value.
    pub sha256: Sha256,
    /// The name as written in the sums file, possibly with a directory or a
    /// Windows drive path. `None` for a bare digest and for `-`, which is
    /// what `sha256sum` prints when it hashed its standard input.
    pub name: Option<String>,
}

/// Why a sums file could not be used. Line numbers are 1-based; `text` is a
/// short excerpt of the offending line with control characters escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SumsError {
    /// The input is larger than [`MAX_SUMS_FILE_LEN`].
    #[error(
        "input is {len} bytes, too large for a sums file (limit {limit} bytes)",
        limit = MAX_SUMS_FILE_LEN
    )]
    TooLarge {
        /// The input's length in bytes.
        len: usize,
    },
    /// The bytes are neither UTF-8 nor UTF-16 text.
    #[error("line {line}: not UTF-8 or UTF-16 text")]
    NotText {
        /// The line where decoding fails, counted from 1.
        line: usize,
    },
    /// Nothing but blank lines, comments and certutil status lines.
    #[error("no SHA-256 digest found")]
    NoDigest,
    /// A line in none of the accepted formats.
    #[error(
        "line {line}: not a sums line (expected `<hex>  name`, `SHA256 (name) = <hex>`, \
         certutil output or a bare 64-digit hex digest): `{text}`"
    )]
    BadLine {
        /// The line, counted from 1.
        line: usize,
        /// The line, cut at 60 characters, control characters escaped.
        text: String,
    },
    /// A digest-shaped run of hex digits of the wrong length, e.g. a digest
    /// cut short by copy and paste, or a SHA-1/SHA-512 sums file.
    #[error("line {line}: digest has {found} hex digits, SHA-256 has 64: `{text}`")]
    BadDigestLength {
        /// The line, counted from 1.
        line: usize,
        /// How many hex digits the digest has.
        found: usize,
        /// The line, cut at 60 characters, control characters escaped.
        text: String,
    },
    /// A digest recorded with another algorithm.
    #[error("line {line}: `{algorithm}` digest recorded, only SHA-256 is supported")]
    UnsupportedAlgorithm {
        /// The line, counted from 1.
        line: usize,
        /// The algorithm's name as written (`SHA1`, `SHA512`, …).
        algorithm: String,
    },
    /// A `\`-prefixed `sha256sum` line whose name has an escape that
    /// `sha256sum` never writes.
    #[error(
        "line {line}: escaped file name has an escape other than `\\\\`, `\\n`, `\\r`: `{text}`"
    )]
    BadEscape {
        /// The line, counted from 1.
        line: usize,
        /// The line, cut at 60 characters, control characters escaped.
        text: String,
    },
    /// A `certutil` "hash of" line not followed by a digest line.
    #[error("line {line}: certutil header is not followed by a digest line")]
    CertutilNoDigest {
        /// The header line, counted from 1.
        line: usize,
    },
    /// A `certutil` status line other than the success one.
    #[error("line {line}: certutil reported a failure: `{text}`")]
    CertutilFailed {
        /// The line, counted from 1.
        line: usize,
        /// The line, cut at 60 characters, control characters escaped.
        text: String,
    },
}

/// Parses the text of a sums file (bytes as read from disk).
///
/// Accepted line formats:
/// - `sha256sum`: `<64 hex>  name`, `<64 hex> *name` (binary mode), and the
///   `\`-prefixed form whose name escapes `\\`, `\n` and `\r`;
/// - BSD / `shasum --tag`: `SHA256 (name) = <64 hex>`, and OpenSSL's
///   `SHA256(name)= <64 hex>` / `SHA2-256(name)= <64 hex>`;
/// - a bare digest: 64 hex digits, or 32 space-separated hex bytes;
/// - `certutil -hashfile F SHA256` output, new and Windows 7/8 forms.
///
/// Encodings: UTF-8 with or without BOM, UTF-16 with a BOM, and UTF-16LE
/// without BOM when every high byte of the first line is zero. Line ends may
/// be LF, CRLF or CR. Blank lines and lines starting with `#` are ignored.
pub fn parse(bytes: &[u8]) -> Result<Vec<RecordedSum>, SumsError> {
    if bytes.len() > MAX_SUMS_FILE_LEN {
        return Err(SumsError::TooLarge { len: bytes.len() });
    }
    let text = decode(bytes)?;
    let mut sums = Vec::new();
    // certutil prints the name and the digest on separate lines.
    let mut certutil_name: Option<(usize, String)> = None;
    for (index, raw) in lines(&text).enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((header_line, name)) = certutil_name.take() {
            let sha256 = certutil_digest(line, line_no, header_line)?;
            sums.push(RecordedSum {
                sha256,
                name: Some(name),
            });
            continue;
        }
        match parse_line(line, line_no)? {
            Parsed::Sum(sum) => sums.push(sum),
            Parsed::CertutilHeader(name) => certutil_name = Some((line_no, name)),
            Parsed::Status => {}
        }
    }
    if let Some((line, _)) = certutil_name {
        return Err(SumsError::CertutilNoDigest { line });
    }
    if sums.is_empty() {
        return Err(SumsError::NoDigest);
    }
    Ok(sums)
}

/// Picks the sum recorded for `file_name`.
///
/// Names are compared by base name (after the last `/` or `\`), so a sum
/// recorded for `F:\dl\bundle.tar` applies to `/mnt/usb/bundle.tar`. An
/// exact match wins over an ASCII case-insensitive one. When several
/// entries share the base name with different digests, the one whose
/// recorded path is a suffix of `file_name` is taken; if that does not
/// settle it, `None`, because guessing could verify against the wrong
/// entry. A file holding only nameless sums (all equal) applies to any file.
pub fn find_for<'a>(sums: &'a [RecordedSum], file_name: &str) -> Option<&'a RecordedSum> {
    let wanted = base_name(file_name);
    if !wanted.is_empty() {
        // Case-sensitive first since `A.tar` and `a.tar` can be different
        // files; the fallback is for names typed at a Windows prompt.
        let comparisons: [fn(&str, &str) -> bool; 2] =
            [|a, b| a == b, |a, b| a.eq_ignore_ascii_case(b)];
        for same in comparisons {
            let candidates = || {
                sums.iter().filter(move |sum| {
                    sum.name
                        .as_deref()
                        .is_some_and(|name| same(base_name(name), wanted))
                })
            };
            if candidates().next().is_some() {
                return unanimous(candidates()).or_else(|| {
                    unanimous(candidates().filter(|sum| {
                        sum.name
                            .as_deref()
                            .is_some_and(|name| is_path_suffix(name, file_name, same))
                    }))
                });
            }
        }
    }
    if sums.iter().all(|sum| sum.name.is_none()) {
        return unanimous(sums.iter());
    }
    None
}

/// The first candidate, provided every candidate records the same digest.
fn unanimous<'a>(mut candidates: impl Iterator<Item = &'a RecordedSum>) -> Option<&'a RecordedSum> {
    let first = candidates.next()?;
    candidates
        .all(|sum| sum.sha256 == first.sha256)
        .then_some(first)
}

/// Both separators count: certutil writes Windows paths, which are then
/// checked on Linux, and the other way round.
fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Whether every component of `recorded` matches the tail of `file_name`.
fn is_path_suffix(recorded: &str, file_name: &str, same: fn(&str, &str) -> bool) -> bool {
    let mut file = path_components(file_name).rev();
    path_components(recorded)
        .rev()
        .all(|component| file.next().is_some_and(|f| same(component, f)))
}

fn path_components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split(['/', '\\'])
        .filter(|component| !component.is_empty() && *component != ".")
}

/// What one non-blank line contributed.
enum Parsed {
    Sum(RecordedSum),
    /// A certutil "hash of NAME:" line; the digest is on the next line.
    CertutilHeader(String),
    /// A certutil success line, which carries no digest.
    Status,
}

fn parse_line(line: &str, line_no: usize) -> Result<Parsed, SumsError> {
    if line.starts_with("CertUtil:") {
        return certutil_status(line, line_no);
    }
    if let Some(name) = certutil_header(line, line_no)? {
        return Ok(Parsed::CertutilHeader(name));
    }
    if let Some(sum) = tagged_line(line, line_no)? {
        return Ok(Parsed::Sum(sum));
    }
    match bare_digest(line) {
        Ok(sha256) => Ok(Parsed::Sum(RecordedSum { sha256, name: None })),
        Err(HexProblem::Length(found)) if found >= MIN_DIGEST_LIKE => {
            Err(bad_length(line_no, found, line))
        }
        Err(_) => sha256sum_line(line, line_no).map(Parsed::Sum),
    }
}

/// Shorter all-hex words ("add", "cafe", "beef") are more likely prose than a
/// truncated digest, so they get the generic error; 8 still catches CRC32.
const MIN_DIGEST_LIKE: usize = 8;

/// Why a would-be digest is not one.
enum HexProblem {
    NotHex,
    /// All hex digits, but this many instead of 64.
    Length(usize),
}

/// A line holding only a digest: 64 hex digits, or the 32 space-separated
/// bytes that Windows 7/8 certutil prints.
fn bare_digest(text: &str) -> Result<Sha256, HexProblem> {
    if is_hex(text) {
        return hex_digest(text);
    }
    let mut joined = String::with_capacity(64);
    for token in text.split_ascii_whitespace() {
        if token.len() != 2 || !is_hex(token) {
            return Err(HexProblem::NotHex);
        }
        joined.push_str(token);
    }
    hex_digest(&joined)
}

/// A single run of hex digits as a digest.
fn hex_digest(hex: &str) -> Result<Sha256, HexProblem> {
    if !is_hex(hex) {
        return Err(HexProblem::NotHex);
    }
    if hex.len() != 64 {
        return Err(HexProblem::Length(hex.len()));
    }
    Sha256::from_hex(hex).map_err(|_| HexProblem::NotHex)
}

fn is_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Spellings of SHA-256 in BSD, OpenSSL 1.x/3.x and certutil output.
fn is_sha256_name(algorithm: &str) -> bool {
    ["SHA256", "SHA2-256", "SHA-256"]
        .iter()
        .any(|known| known.eq_ignore_ascii_case(algorithm))
}

/// `SHA256 hash of [file ]NAME:`; `Ok(None)` when the line is not one.
fn certutil_header(line: &str, line_no: usize) -> Result<Option<String>, SumsError> {
    let Some((algorithm, target)) = line.split_once(" hash of ") else {
        return Ok(None);
    };
    let Some(target) = target.strip_suffix(':') else {
        return Ok(None);
    };
    // A `sha256sum` name may contain " hash of "; the certutil algorithm is a
    // single word.
    if algorithm.is_empty() || algorithm.contains(char::is_whitespace) {
        return Ok(None);
    }
    if !is_sha256_name(algorithm) {
        return Err(unsupported(line_no, algorithm));
    }
    // Windows 7/8 certutil says "hash of file NAME:".
    let name = target.strip_prefix("file ").unwrap_or(target).trim();
    if name.is_empty() {
        return Err(bad_line(line_no, line));
    }
    Ok(Some(name.to_owned()))
}

/// The digest line after a certutil header.
fn certutil_digest(line: &str, line_no: usize, header_line: usize) -> Result<Sha256, SumsError> {
    match bare_digest(line) {
        Ok(sha256) => Ok(sha256),
        Err(HexProblem::Length(found)) => Err(bad_length(line_no, found, line)),
        Err(HexProblem::NotHex) => Err(SumsError::CertutilNoDigest { line: header_line }),
    }
}

/// certutil ends every run with a status line; only the success one means
/// the digest above it belongs to a file that was actually read.
fn certutil_status(line: &str, line_no: usize) -> Result<Parsed, SumsError> {
    if line
        .trim_end_matches('.')
        .ends_with("completed successfully")
    {
        Ok(Parsed::Status)
    } else {
        Err(SumsError::CertutilFailed {
            line: line_no,
            text: excerpt(line),
        })
    }
}

/// BSD `SHA256 (name) = hex` and OpenSSL `SHA256(name)= hex`; `Ok(None)` when
/// the line does not have that shape.
fn tagged_line(line: &str, line_no: usize) -> Result<Option<RecordedSum>, SumsError> {
    let (escaped, body) = strip_escape_marker(line);
    let Some((algorithm, rest)) = body.split_once('(') else {
        return Ok(None);
    };
    let algorithm = algorithm.strip_suffix(' ').unwrap_or(algorithm);
    let algorithm_shaped = !algorithm.is_empty()
        && algorithm
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    // No algorithm name is all hex digits, but a hand-edited `<hex> (1).tar`
    // line has that shape.
    if !algorithm_shaped || is_hex(algorithm) {
        return Ok(None);
    }
    // The last `=` and `)` delimit, so names may contain both.
    let Some((name, hex)) = rest.rsplit_once('=') else {
        return Ok(None);
    };
    let Some(name) = name.trim_end().strip_suffix(')') else {
        return Ok(None);
    };
    if !is_sha256_name(algorithm) {
        return Err(unsupported(line_no, algorithm));
    }
    let hex = hex.trim();
    let sha256 = hex_digest(hex).map_err(|problem| digest_error(problem, line_no, line))?;
    let name = recorded_name(name, escaped, line_no, line)?;
    Ok(Some(RecordedSum { sha256, name }))
}

/// GNU `sha256sum` output: `hex`, a space, a mode character (space for text,
/// `*` for binary), then the name.
fn sha256sum_line(line: &str, line_no: usize) -> Result<RecordedSum, SumsError> {
    let (escaped, body) = strip_escape_marker(line);
    let Some((hex, rest)) = body.split_once(' ') else {
        return Err(bad_line(line_no, line));
    };
    let sha256 = hex_digest(hex).map_err(|problem| digest_error(problem, line_no, line))?;
    // Hand-edited files often have a single space and no mode character;
    // GNU never writes that, so reading the rest as the name loses nothing.
    let name = rest.strip_prefix([' ', '*']).unwrap_or(rest);
    let name = recorded_name(name, escaped, line_no, line)?;
    Ok(RecordedSum { sha256, name })
}

/// `sha256sum` marks a line whose name needed escaping with a leading `\`.
fn strip_escape_marker(line: &str) -> (bool, &str) {
    match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    }
}

/// Unescapes the name if needed; `-` (standard input) names no file.
fn recorded_name(
    name: &str,
    escaped: bool,
    line_no: usize,
    line: &str,
) -> Result<Option<String>, SumsError> {
    let name = if escaped {
        unescape(name).ok_or_else(|| SumsError::BadEscape {
            line: line_no,
            text: excerpt(line),
        })?
    } else {
        name.to_owned()
    };
    match name.as_str() {
        "" => Err(bad_line(line_no, line)),
        "-" => Ok(None),
        _ => Ok(Some(name)),
    }
}

/// Reverses GNU coreutils' escaping (`\\`, `\n`, and `\r` since 9.0).
fn unescape(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            // What `airlock hash` writes for other controls, so that its
            // own output reads back.
            't' => out.push('\t'),
            'u' => out.push(unicode_escape(&mut chars)?),
            _ => return None,
        }
    }
    Some(out)
}

/// The rest of a `\u{HEX}` escape (after the `u`).
fn unicode_escape(chars: &mut std::str::Chars<'_>) -> Option<char> {
    if chars.next()? != '{' {
        return None;
    }
    let mut hex = String::new();
    for c in chars.by_ref() {
        if c == '}' {
            return u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
        }
        if hex.len() == 6 {
            return None;
        }
        hex.push(c);
    }
    None
}

fn digest_error(problem: HexProblem, line_no: usize, line: &str) -> SumsError {
    match problem {
        HexProblem::Length(found) if found >= MIN_DIGEST_LIKE => bad_length(line_no, found, line),
        _ => bad_line(line_no, line),
    }
}

fn bad_line(line_no: usize, line: &str) -> SumsError {
    SumsError::BadLine {
        line: line_no,
        text: excerpt(line),
    }
}

fn bad_length(line_no: usize, found: usize, line: &str) -> SumsError {
    SumsError::BadDigestLength {
        line: line_no,
        found,
        text: excerpt(line),
    }
}

fn unsupported(line_no: usize, algorithm: &str) -> SumsError {
    SumsError::UnsupportedAlgorithm {
        line: line_no,
        algorithm: excerpt(algorithm),
    }
}

/// Enough of a line to recognise it; error messages end up in terminals and
/// logs, so a 1 MiB line or control characters must not go there verbatim.
fn excerpt(line: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut out = String::new();
    for (count, c) in line.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_ascii_graphic() || c == ' ' {
            out.push(c);
        } else {
            // Leaves printable non-ASCII (names in other scripts) as is,
            // escapes control and bidi-override characters.
            out.extend(c.escape_debug());
        }
    }
    out
}

/// LF, CRLF and lone CR all end a line.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}

/// The line number of the position just after `prefix`.
fn line_at_end(prefix: &str) -> usize {
    lines(prefix).count()
}

fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, SumsError> {
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        decode_utf16(rest, u16::from_le_bytes).map(Cow::Owned)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        decode_utf16(rest, u16::from_be_bytes).map(Cow::Owned)
    } else if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        decode_utf8(rest)
    } else if looks_like_bomless_utf16le(bytes) {
        decode_utf16(bytes, u16::from_le_bytes).map(Cow::Owned)
    } else {
        decode_utf8(bytes)
    }
}

fn decode_utf8(bytes: &[u8]) -> Result<Cow<'_, str>, SumsError> {
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|error| {
            let valid = bytes
                .get(..error.valid_up_to())
                .and_then(|prefix| std::str::from_utf8(prefix).ok())
                .unwrap_or("");
            SumsError::NotText {
                line: line_at_end(valid),
            }
        })
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, SumsError> {
    let (pairs, odd_byte) = bytes.as_chunks::<2>();
    let mut text = String::with_capacity(bytes.len());
    for decoded in char::decode_utf16(pairs.iter().map(|&pair| unit(pair))) {
        match decoded {
            Ok(c) => text.push(c),
            Err(_) => {
                return Err(SumsError::NotText {
                    line: line_at_end(&text),
                });
            }
        }
    }
    if !odd_byte.is_empty() {
        return Err(SumsError::NotText {
            line: line_at_end(&text),
        });
    }
    Ok(text)
}

/// Text tools that drop the BOM still write ASCII as `X 00` pairs; ASCII
/// and UTF-8 text never contain a zero byte, so one non-empty first line of
/// such pairs is a reliable sign.
fn looks_like_bomless_utf16le(bytes: &[u8]) -> bool {
    let (pairs, _) = bytes.as_chunks::<2>();
    let mut first_line = pairs
        .iter()
        .take_while(|&&[low, high]| !(high == 0 && matches!(low, b'\n' | b'\r')))
        .peekable();
    first_line.peek().is_some() && first_line.all(|&[_, high]| high == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKOPEO_HEX: &str = "d28bae5ee9c498b2acfcfc54998b470964b89e0502a44c2b0d8621cf8d39e151";
    const SKOPEO_NAME: &str = "skopeo-docker-archive.tar";

    #[test]
    fn sidecar_names_put_the_bundle_name_in_its_patterns() {
        assert_eq!(
            sidecar_names("a {}.tar"),
            [
                "a {}.tar.sha256",
                "a {}.tar.sha256sum",
                "a {}.tar.sha256.txt",
                "a {}.tar.certutil.txt",
                "SHA256SUMS",
                "SHA256SUMS.txt",
                "sha256sums.txt",
            ]
        );
        for name in sidecar_names("x.tar").iter().take(4) {
            assert_eq!(bundle_name_of(name), Some("x.tar"), "{name}");
        }
        assert_eq!(bundle_name_of("x.tar.sha256.txt"), Some("x.tar"));
        assert_eq!(bundle_name_of("SHA256SUMS"), None);
        assert_eq!(bundle_name_of("x.tar.certutil-old.txt"), None);
    }

    /// Exact bytes of corpus/good/skopeo-docker-archive.tar.sha256.
    const GNU_SAMPLE: &[u8] =
        b"d28bae5ee9c498b2acfcfc54998b470964b89e0502a44c2b0d8621cf8d39e151  skopeo-docker-archive.tar\n";

    /// Exact bytes of corpus/good/skopeo-docker-archive.tar.certutil.txt.
    const CERTUTIL_SAMPLE: &[u8] = b"SHA256 hash of skopeo-docker-archive.tar:\r\n\
        d28bae5ee9c498b2acfcfc54998b470964b89e0502a44c2b0d8621cf8d39e151\r\n\
        CertUtil: -hashfile command completed successfully.\r\n";

    /// Exact bytes of corpus/good/skopeo-docker-archive.tar.certutil-old.txt.
    const CERTUTIL_OLD_SAMPLE: &[u8] = b"SHA256 hash of file skopeo-docker-archive.tar:\r\n\
        d2 8b ae 5e e9 c4 98 b2 ac fc fc 54 99 8b 47 09 64 b8 9e 05 02 a4 4c 2b 0d 86 21 cf 8d 39 e1 51\r\n\
        CertUtil: -hashfile command completed successfully.\r\n";

    const SAMPLES: [&[u8]; 3] = [GNU_SAMPLE, CERTUTIL_SAMPLE, CERTUTIL_OLD_SAMPLE];

    const HEX_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const HEX_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn sha(hex: &str) -> Sha256 {
        Sha256::from_hex(hex).expect("test digest is valid hex")
    }

    fn skopeo() -> Sha256 {
        sha(SKOPEO_HEX)
    }

    fn sum(hex: &str, name: Option<&str>) -> RecordedSum {
        RecordedSum {
            sha256: sha(hex),
            name: name.map(str::to_owned),
        }
    }

    fn parse_ok(bytes: &[u8]) -> Vec<RecordedSum> {
        match parse(bytes) {
            Ok(sums) => sums,
            Err(error) => panic!(
                "expected {:?} to parse, got {error}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }

    fn parse_str(text: &str) -> Result<Vec<RecordedSum>, SumsError> {
        parse(text.as_bytes())
    }

    fn utf16le(text: &[u8], bom: bool) -> Vec<u8> {
        let text = std::str::from_utf8(text).expect("test text is UTF-8");
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out
    }

    fn utf16be_with_bom(text: &str) -> Vec<u8> {
        let mut out = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_be_bytes());
        }
        out
    }

    /// Deterministic xorshift so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }

    /// What any successful parse must satisfy.
    fn assert_sane(result: &Result<Vec<RecordedSum>, SumsError>, input: &[u8]) {
        if let Ok(sums) = result {
            assert!(!sums.is_empty(), "Ok with no sums for {input:?}");
            assert!(
                sums.iter().all(|s| s.name.as_deref() != Some("")),
                "empty name for {input:?}"
            );
        }
    }

    // ---- real samples ----

    #[test]
    fn gnu_sample_parses() {
        assert_eq!(
            parse_ok(GNU_SAMPLE),
            vec![sum(SKOPEO_HEX, Some(SKOPEO_NAME))]
        );
    }

    #[test]
    fn certutil_sample_parses() {
        assert_eq!(
            parse_ok(CERTUTIL_SAMPLE),
            vec![sum(SKOPEO_HEX, Some(SKOPEO_NAME))]
        );
    }

    #[test]
    fn certutil_old_sample_parses_and_drops_file_prefix() {
        assert_eq!(
            parse_ok(CERTUTIL_OLD_SAMPLE),
            vec![sum(SKOPEO_HEX, Some(SKOPEO_NAME))]
        );
    }

    #[test]
    fn all_samples_agree_in_every_encoding() {
        for sample in SAMPLES {
            let variants = [
                sample.to_vec(),
                [b"\xEF\xBB\xBF".as_slice(), sample].concat(),
                utf16le(sample, true),
                utf16le(sample, false),
                utf16be_with_bom(std::str::from_utf8(sample).expect("sample is UTF-8")),
            ];
            for bytes in variants {
                let sums = parse_ok(&bytes);
                assert_eq!(sums.len(), 1, "{bytes:?}");
                assert_eq!(sums.first().map(|s| s.sha256), Some(skopeo()), "{bytes:?}");
                assert_eq!(
                    find_for(&sums, SKOPEO_NAME).map(|s| s.sha256),
                    Some(skopeo())
                );
            }
        }
    }

    #[test]
    fn certutil_upper_case_old_form() {
        let text = String::from_utf8_lossy(CERTUTIL_OLD_SAMPLE).to_uppercase();
        // Upper-casing also changed the header and status lines, which are
        // then not certutil any more; restore them and keep the hex upper.
        let text = text
            .replace("SHA256 HASH OF FILE", "SHA256 hash of file")
            .replace(
                "CERTUTIL: -HASHFILE COMMAND COMPLETED SUCCESSFULLY.",
                "CertUtil: -hashfile command completed successfully.",
            );
        assert!(text.contains("D2 8B AE"));
        assert_eq!(
            parse_ok(text.as_bytes()).first().map(|s| s.sha256),
            Some(skopeo())
        );
    }

    #[test]
    fn certutil_windows_path_name_kept_and_matched_by_base_name() {
        let text = format!(
            "SHA256 hash of F:\\path\\bundle.tar:\r\n{SKOPEO_HEX}\r\n\
             CertUtil: -hashfile command completed successfully.\r\n"
        );
        let sums = parse_ok(text.as_bytes());
        assert_eq!(sums, vec![sum(SKOPEO_HEX, Some("F:\\path\\bundle.tar"))]);
        assert!(find_for(&sums, "/mnt/usb/bundle.tar").is_some());
        assert!(find_for(&sums, "bundle.tar").is_some());
        assert!(find_for(&sums, "other.tar").is_none());
    }

    #[test]
    fn certutil_utf16_with_non_ascii_and_astral_name() {
        let text = format!(
            "SHA256 hash of C:\\Users\\Zoë\\bündel-📦.tar:\r\n{SKOPEO_HEX}\r\n\
             CertUtil: -hashfile command completed successfully.\r\n"
        );
        let sums = parse_ok(&utf16le(text.as_bytes(), true));
        assert_eq!(
            sums,
            vec![sum(SKOPEO_HEX, Some("C:\\Users\\Zoë\\bündel-📦.tar"))]
        );
    }

    #[test]
    fn concatenated_certutil_runs() {
        let text = format!(
            "SHA256 hash of a.tar:\r\n{HEX_A}\r\n\
             CertUtil: -hashfile command completed successfully.\r\n\
             SHA256 hash of b.tar:\r\n{HEX_B}\r\n\
             CertUtil: -hashfile command completed successfully.\r\n"
        );
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(HEX_A, Some("a.tar")), sum(HEX_B, Some("b.tar"))]
        );
    }

    #[test]
    fn certutil_header_without_digest() {
        let text = "SHA256 hash of a.tar:\r\n\
                    CertUtil: -hashfile command completed successfully.\r\n";
        assert_eq!(
            parse_str(text),
            Err(SumsError::CertutilNoDigest { line: 1 })
        );
        assert_eq!(
            parse_str("# x\nSHA256 hash of a.tar:\n"),
            Err(SumsError::CertutilNoDigest { line: 2 })
        );
    }

    #[test]
    fn certutil_failure_is_reported() {
        let text = "CertUtil: -hashfile command FAILED: 0x80070002 (WIN32: 2 ERROR_FILE_NOT_FOUND)\r\n\
                    CertUtil: The system cannot find the file specified.\r\n";
        let error = parse_str(text).expect_err("failure output");
        assert!(
            matches!(&error, SumsError::CertutilFailed { line: 1, text } if text.contains("FAILED")),
            "{error:?}"
        );
    }

    #[test]
    fn certutil_short_digest_line() {
        let text = format!("SHA256 hash of a.tar:\r\n{}\r\n", &SKOPEO_HEX[..62]);
        assert!(matches!(
            parse_str(&text),
            Err(SumsError::BadDigestLength {
                line: 2,
                found: 62,
                ..
            })
        ));
        let pairs_31 = "d2 8b ae 5e e9 c4 98 b2 ac fc fc 54 99 8b 47 09 64 b8 9e 05 02 a4 4c 2b 0d 86 21 cf 8d 39 e1";
        let text = format!("SHA256 hash of file a.tar:\r\n{pairs_31}\r\n");
        assert!(matches!(
            parse_str(&text),
            Err(SumsError::BadDigestLength {
                line: 2,
                found: 62,
                ..
            })
        ));
    }

    #[test]
    fn certutil_other_algorithm_is_unsupported() {
        let text = "SHA1 hash of a.tar:\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n";
        assert_eq!(
            parse_str(text),
            Err(SumsError::UnsupportedAlgorithm {
                line: 1,
                algorithm: "SHA1".into()
            })
        );
    }

    // ---- sha256sum ----

    #[test]
    fn gnu_binary_mode_and_names_with_spaces() {
        let text = format!("{HEX_A} *my bundle.tar\n{HEX_B}  other  file.tar\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![
                sum(HEX_A, Some("my bundle.tar")),
                sum(HEX_B, Some("other  file.tar"))
            ]
        );
    }

    #[test]
    fn gnu_name_starting_with_space_or_star() {
        let text = format!("{HEX_A}   lead.tar\n{HEX_B} **star.tar\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(HEX_A, Some(" lead.tar")), sum(HEX_B, Some("*star.tar"))]
        );
    }

    #[test]
    fn gnu_single_space_is_accepted() {
        let text = format!("{HEX_A} bundle.tar\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(HEX_A, Some("bundle.tar"))]
        );
    }

    #[test]
    fn gnu_single_space_name_shaped_like_a_tag() {
        let text = format!("{HEX_A} (a)=b.tar\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(HEX_A, Some("(a)=b.tar"))]
        );
    }

    #[test]
    fn gnu_upper_case_hex() {
        let text = format!("{}  x.tar\n", SKOPEO_HEX.to_uppercase());
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(SKOPEO_HEX, Some("x.tar"))]
        );
    }

    #[test]
    fn gnu_escaped_names() {
        let text = format!("\\{HEX_A}  a\\\\b\\nc\\rd.tar\n\\{HEX_B} *plain.tar\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![
                sum(HEX_A, Some("a\\b\nc\rd.tar")),
                sum(HEX_B, Some("plain.tar"))
            ]
        );
    }

    #[test]
    fn gnu_bad_escapes_are_errors() {
        for name in ["a\\xb", "a\\u{1b", "trailing\\"] {
            let text = format!("# c\n\\{HEX_A}  {name}\n");
            assert!(
                matches!(parse_str(&text), Err(SumsError::BadEscape { line: 2, .. })),
                "{name}"
            );
        }
    }

    #[test]
    fn airlock_hash_escapes_read_back() {
        let text = format!("\\{HEX_A}  a\\tb\\u{{1b}}[2Kc\\u{{202e}}\\\\d\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(HEX_A, Some("a\tb\u{1b}[2Kc\u{202e}\\d"))]
        );
        for bad in ["\\u1b", "\\u{}", "\\u{110000}", "\\u{1234567}", "\\u{1b"] {
            let text = format!("\\{HEX_A}  a{bad}\n");
            assert!(parse(text.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn unescaped_backslashes_are_literal() {
        let text = format!("{HEX_A}  dir\\n.tar\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(HEX_A, Some("dir\\n.tar"))]
        );
    }

    #[test]
    fn gnu_stdin_dash_is_nameless() {
        let text = format!("{HEX_A}  -\n");
        let sums = parse_ok(text.as_bytes());
        assert_eq!(sums, vec![sum(HEX_A, None)]);
        assert!(find_for(&sums, "anything.tar").is_some());
    }

    #[test]
    fn gnu_missing_name_is_error() {
        let text = format!("{HEX_A} *\n");
        assert!(matches!(
            parse_str(&text),
            Err(SumsError::BadLine { line: 1, .. })
        ));
    }

    #[test]
    fn sha256sums_file_with_many_lines() {
        let text = format!(
            "{HEX_A}  images/amd64/bundle.tar\n{HEX_B}  images/arm64/bundle.tar\n\
             {SKOPEO_HEX}  {SKOPEO_NAME}\n"
        );
        let sums = parse_ok(text.as_bytes());
        assert_eq!(sums.len(), 3);
        assert_eq!(
            find_for(&sums, SKOPEO_NAME).map(|s| s.sha256),
            Some(skopeo())
        );
    }

    // ---- BSD / OpenSSL ----

    #[test]
    fn bsd_tag_format() {
        let text = format!("SHA256 (bundle (1).tar) = {HEX_A}\nSHA256 (a=b.tar) = {HEX_B}\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![
                sum(HEX_A, Some("bundle (1).tar")),
                sum(HEX_B, Some("a=b.tar"))
            ]
        );
    }

    #[test]
    fn bsd_escaped_name() {
        let text = format!("\\SHA256 (new\\nline.tar) = {HEX_A}\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(HEX_A, Some("new\nline.tar"))]
        );
    }

    #[test]
    fn openssl_dgst_formats() {
        let text = format!("SHA256(a.tar)= {HEX_A}\nSHA2-256(b.tar)= {HEX_B}\n");
        assert_eq!(
            parse_ok(text.as_bytes()),
            vec![sum(HEX_A, Some("a.tar")), sum(HEX_B, Some("b.tar"))]
        );
    }

    #[test]
    fn bsd_other_algorithms_are_unsupported() {
        for (algorithm, hex) in [
            ("SHA1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("MD5", "d41d8cd98f00b204e9800998ecf8427e"),
            ("SHA512", HEX_A),
        ] {
            let text = format!("SHA256 (ok.tar) = {HEX_A}\n{algorithm} (a.tar) = {hex}\n");
            assert_eq!(
                parse_str(&text),
                Err(SumsError::UnsupportedAlgorithm {
                    line: 2,
                    algorithm: algorithm.into()
                })
            );
        }
    }

    #[test]
    fn bsd_bad_digest() {
        let text = format!("SHA256 (a.tar) = {}\n", &HEX_A[..63]);
        assert!(matches!(
            parse_str(&text),
            Err(SumsError::BadDigestLength {
                line: 1,
                found: 63,
                ..
            })
        ));
        let text = "SHA256 (a.tar) = not-a-digest\n";
        assert!(matches!(
            parse_str(text),
            Err(SumsError::BadLine { line: 1, .. })
        ));
        let text = format!("SHA256 () = {HEX_A}\n");
        assert!(matches!(
            parse_str(&text),
            Err(SumsError::BadLine { line: 1, .. })
        ));
    }

    // ---- bare digests ----

    #[test]
    fn bare_digest_with_surrounding_whitespace() {
        for text in [
            SKOPEO_HEX.to_owned(),
            format!("  \t{SKOPEO_HEX}  \r\n"),
            format!("\n\n{}\n\n", SKOPEO_HEX.to_uppercase()),
        ] {
            let sums = parse_ok(text.as_bytes());
            assert_eq!(sums, vec![sum(SKOPEO_HEX, None)], "{text:?}");
            assert!(find_for(&sums, "whatever.tar").is_some());
        }
    }

    #[test]
    fn bare_spaced_bytes() {
        let text = "d2 8b ae 5e e9 c4 98 b2 ac fc fc 54 99 8b 47 09 64 b8 9e 05 02 a4 4c 2b 0d 86 21 cf 8d 39 e1 51";
        assert_eq!(parse_ok(text.as_bytes()), vec![sum(SKOPEO_HEX, None)]);
    }

    // ---- text handling ----

    #[test]
    fn line_endings_are_equivalent() {
        let lf = format!("# sums\n\n{HEX_A}  a.tar\n{HEX_B}  b.tar\n");
        let expected = parse_ok(lf.as_bytes());
        assert_eq!(expected.len(), 2);
        for text in [lf.replace('\n', "\r\n"), lf.replace('\n', "\r")] {
            assert_eq!(parse_ok(text.as_bytes()), expected, "{text:?}");
        }
        // Line numbers count CR-only breaks too.
        assert!(matches!(
            parse_str("\r\r\rjunk"),
            Err(SumsError::BadLine { line: 4, .. })
        ));
        assert!(matches!(
            parse_str("\r\n\r\njunk"),
            Err(SumsError::BadLine { line: 3, .. })
        ));
    }

    #[test]
    fn comments_and_blank_lines_are_ignored() {
        let text = format!("# made by hand\n   \n\t\n  # indented comment\n{HEX_A}  a.tar\n#\n");
        assert_eq!(parse_ok(text.as_bytes()), vec![sum(HEX_A, Some("a.tar"))]);
    }

    #[test]
    fn nothing_recorded_is_no_digest() {
        for text in [
            "",
            "\n\n",
            "   \r\n\t",
            "# only a comment\n",
            "CertUtil: -hashfile command completed successfully.\r\n",
        ] {
            assert_eq!(parse_str(text), Err(SumsError::NoDigest), "{text:?}");
        }
        assert_eq!(parse(b"\xEF\xBB\xBF"), Err(SumsError::NoDigest));
        assert_eq!(parse(b"\xFF\xFE"), Err(SumsError::NoDigest));
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let mut bytes = format!("{HEX_A}  a.tar\n{HEX_B}  b").into_bytes();
        bytes.extend_from_slice(b"\xC3\x28.tar\n");
        assert_eq!(parse(&bytes), Err(SumsError::NotText { line: 2 }));
        assert_eq!(parse(b"\x80"), Err(SumsError::NotText { line: 1 }));
    }

    #[test]
    fn broken_utf16_is_not_text() {
        let mut odd = utf16le(GNU_SAMPLE, true);
        odd.push(b'x');
        assert_eq!(parse(&odd), Err(SumsError::NotText { line: 2 }));
        // An unpaired high surrogate on line 2.
        let mut unpaired = utf16le(b"# c\n", true);
        unpaired.extend_from_slice(&[0x00, 0xD8, b'a', 0x00]);
        assert_eq!(parse(&unpaired), Err(SumsError::NotText { line: 2 }));
    }

    #[test]
    fn utf8_with_zero_bytes_is_not_mistaken_for_utf16() {
        // The first line's high bytes are not all zero, so this stays UTF-8
        // and the NUL makes the line unrecognisable.
        let bytes = b"ab\0\0\n";
        assert!(matches!(
            parse(bytes),
            Err(SumsError::BadLine { line: 1, .. })
        ));
        assert!(!looks_like_bomless_utf16le(b"\n\0a\0"));
        assert!(looks_like_bomless_utf16le(b"a\0\n\0zz"));
    }

    #[test]
    fn size_limit() {
        let too_big = vec![b' '; MAX_SUMS_FILE_LEN + 1];
        assert_eq!(
            parse(&too_big),
            Err(SumsError::TooLarge {
                len: MAX_SUMS_FILE_LEN + 1
            })
        );
        let mut at_limit = format!("{HEX_A}  a.tar").into_bytes();
        at_limit.resize(MAX_SUMS_FILE_LEN, b'\n');
        assert_eq!(parse_ok(&at_limit), vec![sum(HEX_A, Some("a.tar"))]);
    }

    // ---- garbage ----

    #[test]
    fn wrong_length_digests() {
        for (len, line) in [
            (63, SKOPEO_HEX.get(..63)),
            (32, SKOPEO_HEX.get(..32)),
            (65, Some(&*format!("{SKOPEO_HEX}0"))),
            (40, Some("da39a3ee5e6b4b0d3255bfef95601890afd80709")),
            (128, Some(&*format!("{HEX_A}{HEX_B}"))),
        ] {
            let line = line.expect("test slice in range");
            for text in [format!("{line}\n"), format!("{line}  a.tar\n")] {
                assert_eq!(
                    parse_str(&text),
                    Err(SumsError::BadDigestLength {
                        line: 1,
                        found: len,
                        text: excerpt(text.trim()),
                    }),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn non_hex_digit_in_digest() {
        let text = format!("g{}  a.tar\n", &HEX_A[1..]);
        assert!(matches!(
            parse_str(&text),
            Err(SumsError::BadLine { line: 1, .. })
        ));
    }

    #[test]
    fn short_hex_words_are_bad_lines() {
        for text in ["cafe", "add me", "ab cd"] {
            assert!(
                matches!(parse_str(text), Err(SumsError::BadLine { line: 1, .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn garbage_line_names_line_and_excerpt() {
        let text = format!("{HEX_A}  a.tar\n\nthis is not a sums file\n");
        let error = parse_str(&text).expect_err("garbage");
        assert_eq!(
            error,
            SumsError::BadLine {
                line: 3,
                text: "this is not a sums file".into()
            }
        );
        let message = error.to_string();
        assert!(message.starts_with("line 3:"), "{message}");
        assert!(message.contains("this is not a sums file"), "{message}");
    }

    #[test]
    fn sha256_digest_reference_is_rejected() {
        // An image ID is not the tar's hash; it must not pass as one.
        let text = format!("sha256:{HEX_A}\n");
        assert!(matches!(
            parse_str(&text),
            Err(SumsError::BadLine { line: 1, .. })
        ));
    }

    #[test]
    fn excerpts_are_short_and_escaped() {
        let long = "x".repeat(10_000);
        match parse_str(&long) {
            Err(SumsError::BadLine { line: 1, text }) => {
                assert_eq!(text.chars().count(), 61);
                assert!(text.ends_with('…'));
            }
            other => panic!("unexpected {other:?}"),
        }
        match parse_str("evil\u{1b}[2J\u{202e}name\u{0}") {
            Err(SumsError::BadLine { text, .. }) => {
                assert!(
                    !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
                    "{text:?}"
                );
                assert!(text.contains("\\u{1b}"), "{text:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(excerpt("Zoë F:\\x"), "Zoë F:\\x");
    }

    #[test]
    fn every_error_message_names_its_problem() {
        let cases = [
            (SumsError::TooLarge { len: 2_000_000 }, "2000000 bytes"),
            (SumsError::NotText { line: 4 }, "line 4"),
            (SumsError::NoDigest, "no SHA-256"),
            (
                SumsError::BadDigestLength {
                    line: 2,
                    found: 63,
                    text: "abc".into(),
                },
                "line 2: digest has 63 hex digits",
            ),
            (
                SumsError::UnsupportedAlgorithm {
                    line: 5,
                    algorithm: "MD5".into(),
                },
                "line 5: `MD5`",
            ),
            (
                SumsError::BadEscape {
                    line: 6,
                    text: "x".into(),
                },
                "line 6: escaped",
            ),
            (SumsError::CertutilNoDigest { line: 7 }, "line 7: certutil"),
            (
                SumsError::CertutilFailed {
                    line: 8,
                    text: "boom".into(),
                },
                "line 8: certutil reported a failure: `boom`",
            ),
        ];
        for (error, expected) in cases {
            let message = error.to_string();
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    #[test]
    fn random_bytes_are_errors_not_panics() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..3000 {
            let len = rng.below(400);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next().to_le_bytes()[0]).collect();
            // Exercise the UTF-16 paths too.
            match round % 3 {
                1 => bytes = [[0xFF, 0xFE].as_slice(), &bytes].concat(),
                2 => bytes.iter_mut().skip(1).step_by(2).for_each(|b| *b = 0),
                _ => {}
            }
            let result = parse(&bytes);
            assert!(result.is_err(), "{bytes:?} parsed as {result:?}");
        }
    }

    #[test]
    fn format_shaped_noise_never_panics() {
        const ALPHABET: &[u8] = b"0123456789abcdefABCDEF  **\\\\(())==::##\r\n\r\nSHA256 hash of fileCertUtil\0\xFF\xFE\xC3";
        let mut rng = Rng(42);
        for _ in 0..5000 {
            let len = rng.below(200);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    ALPHABET
                        .get(rng.below(ALPHABET.len()))
                        .copied()
                        .unwrap_or(b' ')
                })
                .collect();
            let result = parse(&bytes);
            assert_sane(&result, &bytes);
            if let Ok(sums) = &result {
                let _ = find_for(sums, "SHA256");
            }
        }
    }

    #[test]
    fn truncated_gnu_sample_fails_until_digest_complete() {
        for cut in 0..=GNU_SAMPLE.len() {
            let prefix = GNU_SAMPLE.get(..cut).expect("cut in range");
            let result = parse(prefix);
            if cut < 64 {
                assert!(result.is_err(), "prefix {cut} parsed: {result:?}");
            } else {
                let sums = result.expect("full digest present");
                assert_eq!(
                    sums.first().map(|s| s.sha256),
                    Some(skopeo()),
                    "prefix {cut}"
                );
            }
        }
    }

    #[test]
    fn mutated_samples_never_panic() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for sample in SAMPLES {
            inputs.push(sample.to_vec());
            inputs.push(utf16le(sample, true));
            inputs.push(utf16le(sample, false));
        }
        for input in &inputs {
            for position in 0..input.len() {
                let truncated = input.get(..position).unwrap_or_default();
                assert_sane(&parse(truncated), truncated);
                for replacement in [
                    0, b' ', b'\n', b'\r', b'\\', b'(', b':', b'g', b'A', 0xFF, 0xD8,
                ] {
                    let mut mutated = input.clone();
                    if let Some(byte) = mutated.get_mut(position) {
                        *byte = replacement;
                    }
                    assert_sane(&parse(&mutated), &mutated);
                }
            }
        }
    }

    // ---- find_for ----

    #[test]
    fn find_for_matches_base_names_on_both_sides() {
        let sums = vec![
            sum(HEX_A, Some("./dist/a.tar")),
            sum(HEX_B, Some("C:\\Temp\\b.tar")),
        ];
        assert_eq!(find_for(&sums, "a.tar").map(|s| s.sha256), Some(sha(HEX_A)));
        assert_eq!(
            find_for(&sums, "/tmp/x/a.tar").map(|s| s.sha256),
            Some(sha(HEX_A))
        );
        assert_eq!(
            find_for(&sums, "D:\\b.tar").map(|s| s.sha256),
            Some(sha(HEX_B))
        );
        assert_eq!(find_for(&sums, "c.tar"), None);
        assert_eq!(find_for(&sums, ""), None);
        assert_eq!(find_for(&sums, "/tmp/"), None);
    }

    #[test]
    fn find_for_single_nameless_sum_applies_to_any_file() {
        let sums = vec![sum(HEX_A, None)];
        assert_eq!(find_for(&sums, "anything.tar"), sums.first());
        assert_eq!(find_for(&sums, ""), sums.first());
        // The same digest pasted twice still agrees.
        let twice = vec![sum(HEX_A, None), sum(HEX_A, None)];
        assert_eq!(find_for(&twice, "x"), twice.first());
        // Two different bare digests: no way to tell which one is meant.
        let differing = vec![sum(HEX_A, None), sum(HEX_B, None)];
        assert_eq!(find_for(&differing, "x"), None);
        assert_eq!(find_for(&[], "x"), None);
    }

    #[test]
    fn find_for_nameless_does_not_apply_next_to_named() {
        let sums = vec![sum(HEX_A, None), sum(HEX_B, Some("b.tar"))];
        assert_eq!(find_for(&sums, "a.tar"), None);
        assert_eq!(find_for(&sums, "b.tar").map(|s| s.sha256), Some(sha(HEX_B)));
    }

    #[test]
    fn find_for_ambiguous_base_names() {
        let sums = vec![
            sum(HEX_A, Some("amd64/bundle.tar")),
            sum(HEX_B, Some("arm64/bundle.tar")),
        ];
        assert_eq!(find_for(&sums, "bundle.tar"), None);
        assert_eq!(
            find_for(&sums, "/dl/arm64/bundle.tar").map(|s| s.sha256),
            Some(sha(HEX_B))
        );
        assert_eq!(
            find_for(&sums, "C:\\dl\\amd64\\bundle.tar").map(|s| s.sha256),
            Some(sha(HEX_A))
        );
        // Duplicates that agree are not ambiguous.
        let agreeing = vec![
            sum(HEX_A, Some("x/bundle.tar")),
            sum(HEX_A, Some("y/bundle.tar")),
        ];
        assert_eq!(find_for(&agreeing, "bundle.tar"), agreeing.first());
    }

    #[test]
    fn find_for_case_insensitive_only_as_fallback() {
        let sums = vec![
            sum(HEX_A, Some("Bundle.TAR")),
            sum(HEX_B, Some("bundle.tar")),
        ];
        assert_eq!(
            find_for(&sums, "bundle.tar").map(|s| s.sha256),
            Some(sha(HEX_B))
        );
        assert_eq!(
            find_for(&sums, "Bundle.TAR").map(|s| s.sha256),
            Some(sha(HEX_A))
        );
        // Neither matches exactly and they disagree.
        assert_eq!(find_for(&sums, "BUNDLE.tar"), None);
        let single = vec![sum(HEX_A, Some("F:\\BUNDLE.TAR"))];
        assert_eq!(find_for(&single, "/mnt/bundle.tar"), single.first());
    }
}
