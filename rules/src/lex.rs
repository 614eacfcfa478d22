//! A lexical pre-pass shared by the JSON, DSL and expression readers: finds comments and
//! measures bracket nesting before pest sees the text.
//!
//! Rule sets are untrusted input, and a recursive-descent parser given `[[[[…` ten thousand
//! levels deep would overflow its stack. Measuring nesting first lets rally refuse such
//! text with a diagnostic instead.

use crate::span::Span;

/// The deepest nesting of `(`, `[` and `{` that rally reads. Real rule sets stay under 10.
pub(crate) const MAX_NESTING: usize = 32;

#[derive(Clone, Debug, Default)]
pub(crate) struct Scan {
    /// Every `//` and `/* */` comment outside strings, in order.
    pub comments: Vec<Span>,
    /// Where nesting first went past [`MAX_NESTING`], if it did.
    pub too_deep_at: Option<usize>,
}

/// Scans text whose strings are double-quoted with backslash escapes (JSON, the DSL and
/// property expressions all are).
pub(crate) fn scan(text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut scan = Scan::default();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    // A backslash escapes the next byte; a line break ends an unclosed string so
                    // that one stray quote does not hide the rest of the text.
                    if bytes[i] == b'\\' {
                        i += 1;
                    } else if bytes[i] == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                scan.comments.push(Span::new(i, end));
                i = end;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
                scan.comments.push(Span::new(i, end));
                i = end;
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING && scan.too_deep_at.is_none() {
                    scan.too_deep_at = Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    scan
}

/// Whether `text` holds nothing but whitespace and the given comments.
pub(crate) fn is_blank(text: &str, comments: &[Span]) -> bool {
    let layout: &[char] = &['\u{FEFF}', ' ', '\t', '\r', '\n'];
    let mut at = 0;
    for comment in comments {
        if !text[at..comment.start].trim_matches(layout).is_empty() {
            return false;
        }
        at = comment.end;
    }
    text[at..].trim_matches(layout).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_comments_outside_strings_only() {
        let text = "{\"a\": \"//not\", // yes\n /* block */ \"b\": 1}";
        let scan = scan(text);
        let comments: Vec<&str> = scan
            .comments
            .iter()
            .map(|s| &text[s.start..s.end])
            .collect();
        assert_eq!(comments, ["// yes", "/* block */"]);
        assert_eq!(scan.too_deep_at, None);
    }

    #[test]
    fn blank_means_only_whitespace_and_comments() {
        let text = " // a\n /* b */ \n";
        assert!(is_blank(text, &scan(text).comments));
        let text = "// a\n x";
        assert!(!is_blank(text, &scan(text).comments));
        assert!(is_blank("", &[]));
    }

    #[test]
    fn reports_where_nesting_goes_too_deep() {
        let text = "[".repeat(MAX_NESTING + 5);
        assert_eq!(scan(&text).too_deep_at, Some(MAX_NESTING));
        let fine = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        assert_eq!(scan(&fine).too_deep_at, None);
    }

    #[test]
    fn brackets_in_strings_and_escaped_quotes_do_not_count() {
        let text = format!("\"\\\"{}\"", "[".repeat(100));
        assert_eq!(scan(&text).too_deep_at, None);
    }
}
