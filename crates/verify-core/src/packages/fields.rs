//! RFC 822-style records: `Name: value` lines, continuation lines that start
//! with white space, records separated by blank lines. dpkg's status files
//! and Python's `METADATA` are both written this way.

/// One record (a dpkg stanza, or the header block of a `METADATA` file).
#[derive(Debug, Default)]
pub(super) struct Record<'a> {
    /// 1-based line number of the record's first line.
    pub line: usize,
    /// Fields in file order; a continuation line is appended to its field's
    /// value after a `\n`.
    fields: Vec<(&'a str, String)>,
    /// The first line that is neither a field nor a continuation.
    pub bad_line: Option<usize>,
}

impl Record<'_> {
    /// The value of the first field called `name` (case-insensitive, as
    /// both dpkg and the Python metadata spec read field names).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.bad_line.is_none()
    }
}

/// Calls `each` with every record in `text`, one at a time, so a large
/// status file is never held twice over.
pub(super) fn for_each_record<'a>(text: &'a str, mut each: impl FnMut(Record<'a>)) {
    let mut reader = Reader::default();
    for (index, line) in text.split('\n').enumerate() {
        if let Some(done) = reader.line(index + 1, line) {
            each(done);
        }
    }
    if let Some(last) = reader.close() {
        each(last);
    }
}

#[cfg(test)]
fn records(text: &str) -> Vec<Record<'_>> {
    let mut out = Vec::new();
    for_each_record(text, |r| out.push(r));
    out
}

/// The first record of `text` and whether a blank line ended it (so a file
/// cut short after that line still has its whole header).
pub(super) fn header(text: &str) -> (Record<'_>, bool) {
    let mut reader = Reader::default();
    for (index, line) in text.split('\n').enumerate() {
        if let Some(done) = reader.line(index + 1, line) {
            return (done, true);
        }
    }
    (reader.close().unwrap_or_default(), false)
}

#[derive(Default)]
struct Reader<'a> {
    current: Record<'a>,
}

impl<'a> Reader<'a> {
    /// Takes one line; returns a record when this line ended one.
    fn line(&mut self, number: usize, line: &'a str) -> Option<Record<'a>> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return self.close();
        }
        if self.current.is_empty() {
            self.current.line = number;
        }
        if self.current.bad_line.is_some() {
            // The record is already unusable; skip to its end.
            return None;
        }
        if line.starts_with([' ', '\t']) {
            match self.current.fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => self.current.bad_line = Some(number),
            }
            return None;
        }
        match line.split_once(':') {
            Some((name, value))
                if !name.is_empty() && !name.contains(|c: char| c.is_whitespace()) =>
            {
                self.current.fields.push((name, value.trim().to_owned()));
            }
            _ => self.current.bad_line = Some(number),
        }
        None
    }

    fn close(&mut self) -> Option<Record<'a>> {
        if self.current.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.current))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_continuations_and_crlf() {
        let text =
            "Package: a\r\nDescription: one\r\n two\r\n .\r\n\r\n\r\nPackage: b\nVersion: 1\n";
        let got = records(text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].get("package"), Some("a"));
        assert_eq!(got[0].get("Description"), Some("one\ntwo\n."));
        assert_eq!(got[1].line, 7);
        assert_eq!(got[1].get("Version"), Some("1"));
        assert!(got.iter().all(|r| r.bad_line.is_none()));
    }

    #[test]
    fn a_line_that_is_no_field_marks_its_record() {
        let got = records("Package: a\nnot a field\nVersion: 1\n\nPackage: b\n");
        assert_eq!(got[0].bad_line, Some(2));
        assert_eq!(got[1].bad_line, None);
        let got = records(" leading continuation\n");
        assert_eq!(got[0].bad_line, Some(1));
    }

    #[test]
    fn header_says_whether_it_ended() {
        let (h, ended) = header("Name: x\nVersion: 1\n\nbody: not a header\n");
        assert!(ended);
        assert_eq!(h.get("name"), Some("x"));
        assert_eq!(h.get("body"), None);
        let (_, ended) = header("Name: x\nVersion: 1");
        assert!(!ended);
    }
}
