//! `os-release` (os-release(5)): `KEY=value` lines in shell syntax, values
//! optionally in single or double quotes, `#` comments.

use super::Found;
use crate::contents::OsInfo;

/// The OS the file describes, or `None` (with a note) when no line of it
/// is usable. Malformed lines are noted one by one; the others still count.
pub(super) fn read(bytes: &[u8], found: &mut Found<'_>) -> Option<OsInfo> {
    let text = super::text(bytes);
    let mut info = OsInfo {
        id: String::new(),
        version_id: None,
        pretty_name: None,
        name: None,
        version_codename: None,
        id_like: Vec::new(),
        file: found.origin.file.to_owned(),
        layer: found.origin.layer,
    };
    let mut id = None;
    let mut any = false;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = parse_line(line) else {
            found.note(format!(
                "line {} of os-release is not KEY=value in shell syntax; ignored",
                index + 1
            ));
            continue;
        };
        any = true;
        let value = Some(value).filter(|v| !v.is_empty());
        match key {
            "ID" => id = value,
            "VERSION_ID" => info.version_id = value,
            "PRETTY_NAME" => info.pretty_name = value,
            "NAME" => info.name = value,
            "VERSION_CODENAME" => info.version_codename = value,
            "ID_LIKE" => {
                info.id_like = value
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
            }
            _ => {}
        }
    }
    if !any {
        found.note("could not read: no KEY=value line in this os-release file");
        return None;
    }
    // os-release(5): "If not set, a default of ID=linux may be used."
    info.id = id.unwrap_or_else(|| "linux".to_owned());
    Some(info)
}

/// One `KEY=value` line, its value unquoted; `None` if it is not one.
fn parse_line(line: &str) -> Option<(&str, String)> {
    let (key, raw) = line.split_once('=')?;
    let mut chars = key.chars();
    let key_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !key_ok {
        return None;
    }
    Some((key, unquote(raw)?))
}

/// A shell word: `"..."` with backslash escapes, `'...'` verbatim, or a
/// bare word without blanks or quotes.
fn unquote(raw: &str) -> Option<String> {
    let mut chars = raw.chars();
    match chars.next() {
        None => Some(String::new()),
        Some('\'') => {
            let rest = chars.as_str();
            let end = rest.find('\'')?;
            rest[end + 1..]
                .trim()
                .is_empty()
                .then(|| rest[..end].to_owned())
        }
        Some('"') => {
            let mut out = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => return chars.as_str().trim().is_empty().then_some(out),
                    '\\' => match chars.next()? {
                        // In double quotes the shell drops the backslash
                        // only before these; elsewhere it stays.
                        c @ ('"' | '\\' | '$' | '`') => out.push(c),
                        c => {
                            out.push('\\');
                            out.push(c);
                        }
                    },
                    c => out.push(c),
                }
            }
            None
        }
        Some(_) => {
            let bare = raw
                .chars()
                .all(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '`' | '\\' | '$'));
            bare.then(|| raw.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Found, Origin};
    use super::*;

    fn parse(text: &str) -> (Option<OsInfo>, Vec<String>) {
        let mut found = Found::new(Origin {
            file: "etc/os-release",
            layer: 2,
        });
        let os = read(text.as_bytes(), &mut found);
        (os, found.notes.into_iter().map(|n| n.message).collect())
    }

    #[test]
    fn debian_bookworm() {
        let (os, notes) = parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n",
        );
        let os = os.expect("parsed");
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
        assert_eq!((os.file.as_str(), os.layer), ("etc/os-release", 2));
    }

    #[test]
    fn alpine_ubuntu_and_quoting() {
        let (os, _) = parse(
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        );
        assert_eq!(os.expect("parsed").version_id.as_deref(), Some("3.19.1"));
        let (os, notes) = parse(
            "# comment\n\nID=ubuntu\nID_LIKE=debian\nVERSION_ID='22.04'\nPRETTY_NAME=\"Say \\\"hi\\\" \\$HOME \\n\"\n",
        );
        let os = os.expect("parsed");
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(os.id_like, vec!["debian".to_owned()]);
        assert_eq!(os.version_id.as_deref(), Some("22.04"));
        assert_eq!(os.pretty_name.as_deref(), Some("Say \"hi\" $HOME \\n"));
    }

    #[test]
    fn malformed_lines_are_noted_and_never_become_values() {
        let (os, notes) =
            parse("ID=debian\nVERSION_ID=\"12\nPRETTY_NAME=two words\n=x\nnot a line\nNAME='a'b\n");
        let os = os.expect("ID still read");
        assert_eq!(os.version_id, None);
        assert_eq!(os.pretty_name, None);
        assert_eq!(os.name, None);
        assert_eq!(notes.len(), 5, "{notes:?}");
        assert!(notes[0].contains("line 2"));
    }

    #[test]
    fn nothing_usable_is_a_could_not_read_note() {
        let (os, notes) = parse("\u{0}\u{1}garbage\n\u{ff}");
        assert!(os.is_none());
        assert!(
            notes
                .last()
                .is_some_and(|n| n.starts_with("could not read"))
        );
        let (os, _) = parse("NAME=Linux\n");
        assert_eq!(os.expect("defaults").id, "linux");
    }
}
