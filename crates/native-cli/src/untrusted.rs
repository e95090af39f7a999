//! Text that came from outside (a bundle, a sums file, a registry's answer,
//! a file name on the stick) as a terminal may show it.
//!
//! A terminal obeys control characters wherever they appear: a tag holding
//! `\r\x1b[2K\x1b[1A\x1b[32mVERIFIED` rewrites the lines above it, and a
//! bidi override (U+202E) reverses what follows it. Such characters are
//! shown as escapes instead, whether or not colour is on, and a backslash
//! is doubled, so an escape on screen always means the character was there.
//! Printable text in any script is left as it is. `--json` never goes
//! through here: it carries the text exactly.

use std::fmt::{self, Write as _};

/// Shows the text of `T` with control and bidi characters escaped:
/// `\\`, `\n`, `\r`, `\t`, otherwise `\u{1b}` as Rust writes them.
pub struct Untrusted<T>(pub T);

impl<T: fmt::Display> fmt::Display for Untrusted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(Escaping(f), "{}", self.0)
    }
}

/// Whether `text` shows as itself, with nothing to escape.
pub fn is_plain(text: &str) -> bool {
    !text.chars().any(escaped)
}

/// Passes text on to a formatter, escaping as it goes.
struct Escaping<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, mut text: &str) -> fmt::Result {
        while let Some((at, c)) = text.char_indices().find(|&(_, c)| escaped(c)) {
            self.0.write_str(&text[..at])?;
            match c {
                '\\' => self.0.write_str("\\\\")?,
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                c => write!(self.0, "\\u{{{:x}}}", u32::from(c))?,
            }
            text = &text[at + c.len_utf8()..];
        }
        self.0.write_str(text)
    }
}

/// The backslash, C0 and C1 controls and DEL (`char::is_control`), the
/// line and paragraph separators, and Unicode's Bidi_Control characters:
/// the marks and the embeddings, overrides and isolates that reorder text.
fn escaped(c: char) -> bool {
    c == '\\'
        || c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::{Untrusted, is_plain};

    fn shown(text: &str) -> String {
        Untrusted(text).to_string()
    }

    #[test]
    fn c0_controls_and_del_are_escaped() {
        assert_eq!(shown("a\u{0}b\u{7}c\u{1b}[2K"), "a\\u{0}b\\u{7}c\\u{1b}[2K");
        assert_eq!(shown("\r\n\t"), "\\r\\n\\t");
        assert_eq!(shown("x\u{7f}y"), "x\\u{7f}y");
        assert_eq!(shown("\u{1f}"), "\\u{1f}");
    }

    #[test]
    fn c1_controls_are_escaped() {
        // U+009B is the one-character CSI; U+0085 a next-line.
        assert_eq!(shown("\u{9b}31m\u{85}"), "\\u{9b}31m\\u{85}");
        assert_eq!(shown("\u{80}\u{9f}"), "\\u{80}\\u{9f}");
        assert_eq!(shown("\u{a0}"), "\u{a0}", "a no-break space is printable");
    }

    #[test]
    fn bidi_controls_and_separators_are_escaped() {
        assert_eq!(shown("abc\u{202e}gpj.exe"), "abc\\u{202e}gpj.exe");
        for c in ('\u{202a}'..='\u{202e}').chain('\u{2066}'..='\u{2069}') {
            assert_eq!(shown(&c.to_string()), format!("\\u{{{:x}}}", u32::from(c)));
        }
        for c in ['\u{61c}', '\u{200e}', '\u{200f}', '\u{2028}', '\u{2029}'] {
            assert!(!is_plain(&c.to_string()), "{c:?}");
        }
    }

    #[test]
    fn a_backslash_is_doubled_so_escapes_are_unambiguous() {
        assert_eq!(shown("C:\\dl\\a.tar"), "C:\\\\dl\\\\a.tar");
        assert_ne!(shown("\\u{1b}"), shown("\u{1b}"));
    }

    #[test]
    fn printable_text_in_any_script_is_unchanged() {
        for text in [
            "레지스트리/앱:1.0",
            "Zoë bündel-📦.tar",
            "ﺍﻟﻌﺮﺑﻴﺔ",
            "a b",
            "é",
        ] {
            assert_eq!(shown(text), text);
            assert!(is_plain(text), "{text}");
        }
        assert!(!is_plain("a\\b"));
    }

    #[test]
    fn the_whole_attack_becomes_one_visible_line() {
        let tag = "app\r\u{1b}[2K\u{1b}[1A\u{1b}[32mVERIFIED\u{1b}[8m\u{202e}";
        let line = shown(tag);
        assert!(!line.chars().any(|c| c.is_control() || c == '\u{202e}'));
        assert_eq!(
            line,
            "app\\r\\u{1b}[2K\\u{1b}[1A\\u{1b}[32mVERIFIED\\u{1b}[8m\\u{202e}"
        );
    }

    #[test]
    fn any_display_goes_through() {
        let path = std::path::Path::new("dir/\u{1b}]0;title\u{7}");
        assert_eq!(
            Untrusted(path.display()).to_string(),
            "dir/\\u{1b}]0;title\\u{7}"
        );
    }
}
