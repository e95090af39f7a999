// Text from a bundle or a sums file as the page shows it. textContent keeps
// markup out, but control characters and bidi overrides still act: U+202E
// in a tag reverses what the approver reads after it. They are shown as
// escapes instead, as `airlock` shows them in a terminal (`\\`, `\n`, `\r`,
// `\t`, otherwise `\u{202e}`), so the page and the CLI show a name alike.
"use strict";

// The backslash, C0 and C1 controls and DEL, the line and paragraph
// separators, and Unicode's Bidi_Control characters.
const AIRLOCK_ESCAPED = /[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const AIRLOCK_SHORT_ESCAPES = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function airlockVisible(text) {
  return String(text).replace(
    AIRLOCK_ESCAPED,
    (c) => AIRLOCK_SHORT_ESCAPES[c] || `\\u{${c.codePointAt(0).toString(16)}}`,
  );
}
