//! Text hygiene: the one definition of the characters that must never reach a terminal, a
//! spreadsheet or a log line as they are, and the one escaper for showing stored text.
//!
//! Unsafe characters ([`is_unsafe_char`]): every Unicode control character (C0 `U+0000..=U+001F`
//! including NUL, ESC, tab and newline; DEL `U+007F`; C1 `U+0080..=U+009F` including the 8-bit
//! CSI `U+009B`), the bidirectional formatting characters (`U+061C`, `U+200E`, `U+200F`,
//! `U+202A..=U+202E`, `U+2066..=U+2069`) and the line/paragraph separators `U+2028`, `U+2029`.
//! They can clear or repaint a terminal (ANSI escape sequences), reorder what a reader sees
//! ("Trojan Source" bidi overrides) or cut a string short (NUL).
//!
//! How the product treats them (docs/security.md "Text hygiene"):
//! - **refused** by validation ([`crate::validate`]) in text people type: user names, device
//!   names, assignees, asset tags, token names and notes (device notes may hold newlines and tabs);
//! - **neutralised** ([`neutralise`]: each becomes `U+FFFD`) in text machines report (inventory
//!   and sample strings, agent version), so a hostile process name cannot cost a device its
//!   telemetry or enrollment;
//! - **escaped** on output ([`escape`]) by the console, the CLI tables and the exports, so text
//!   stored before these rules cannot act on the reader's terminal either.

use std::borrow::Cow;

/// True for characters that are never stored as they are and never printed as they are.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// The first unsafe character of `s`; with `multiline`, newline and tab are allowed.
pub fn first_unsafe(s: &str, multiline: bool) -> Option<char> {
    s.chars()
        .find(|&c| is_unsafe_char(c) && !(multiline && matches!(c, '\n' | '\t')))
}

/// Replace every unsafe character with `U+FFFD` (the replacement character). Returns whether
/// anything changed.
pub fn neutralise(s: &mut String) -> bool {
    if !s.chars().any(is_unsafe_char) {
        return false;
    }
    *s = s
        .chars()
        .map(|c| if is_unsafe_char(c) { '\u{FFFD}' } else { c })
        .collect();
    true
}

/// [`neutralise`] for an optional string.
pub fn neutralise_opt(s: &mut Option<String>) -> bool {
    s.as_mut().is_some_and(neutralise)
}

/// Text safe to print: every unsafe character is written as its Rust/JSON-like escape
/// `\u{1b}`, so a stored `ESC[2J` shows as `\u{1b}[2J` instead of clearing the screen. Text
/// without unsafe characters is returned as it is (no allocation).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hostile strings the tests throw at every input.
    const HOSTILE: &[(&str, char)] = &[
        ("\u{1b}[2J", '\u{1b}'),
        ("abc\u{202E}fdp.exe", '\u{202E}'),
        ("nul\0byte", '\0'),
        ("c1\u{9b}31m", '\u{9b}'),
        ("del\u{7f}", '\u{7f}'),
        ("isolate\u{2067}x", '\u{2067}'),
        ("line\u{2028}sep", '\u{2028}'),
    ];

    #[test]
    fn every_hostile_character_is_unsafe() {
        for (s, c) in HOSTILE {
            assert!(is_unsafe_char(*c), "{c:?}");
            assert_eq!(first_unsafe(s, false), Some(*c), "{s:?}");
            assert_eq!(first_unsafe(s, true), Some(*c), "{s:?}");
        }
    }

    #[test]
    fn ordinary_text_is_safe_including_non_latin_and_emoji() {
        for s in [
            "Zoë's ThinkPad",
            "東京-01",
            "café ☕",
            "a\u{200D}b",
            "-=+@ tag",
        ] {
            assert_eq!(first_unsafe(s, false), None, "{s:?}");
            assert!(matches!(escape(s), Cow::Borrowed(_)));
        }
        assert_eq!(first_unsafe("line1\nline2\ttab", true), None);
        assert_eq!(first_unsafe("line1\nline2", false), Some('\n'));
        assert_eq!(first_unsafe("cr\r", true), Some('\r'));
    }

    #[test]
    fn escape_makes_unsafe_characters_visible_and_inert() {
        assert_eq!(escape("\u{1b}[2Jx"), "\\u{1b}[2Jx");
        assert_eq!(escape("a\u{202E}b"), "a\\u{202e}b");
        assert_eq!(escape("\0"), "\\u{0}");
        assert_eq!(escape("\u{9b}1m"), "\\u{9b}1m");
        for (s, _) in HOSTILE {
            assert_eq!(first_unsafe(&escape(s), false), None, "{s:?}");
        }
    }

    #[test]
    fn neutralise_replaces_each_unsafe_character() {
        let mut s = "pc\u{1b}[2J\u{202E}".to_string();
        assert!(neutralise(&mut s));
        assert_eq!(s, "pc\u{FFFD}[2J\u{FFFD}");
        assert!(!neutralise(&mut s));
        let mut none: Option<String> = None;
        assert!(!neutralise_opt(&mut none));
    }
}
