//! How figures and names are written into the page: HTML escaping, counts, waits, money and
//! shares, each the same on every platform.

/// `text` safe inside an element or a double-quoted attribute.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A whole number with thousands separated: `12,345`.
pub(super) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A wait or a latency: milliseconds below ten seconds, seconds above; `-` when there is none.
pub(super) fn ms(value: Option<f64>) -> String {
    match value {
        None => "-".to_string(),
        Some(v) if v.abs() < 10_000.0 => format!("{v:.0} ms"),
        Some(v) => format!("{:.1} s", v / 1000.0),
    }
}

pub(super) fn usd(value: f64) -> String {
    format!("${value:.2}")
}

/// A share (0 to 1) as a percentage.
pub(super) fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// A plain figure (an imbalance, a spread) to two decimals; `-` when there is none.
pub(super) fn plain(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn figures_are_written_for_people() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(ms(None), "-");
        assert_eq!(ms(Some(812.4)), "812 ms");
        assert_eq!(ms(Some(12_345.0)), "12.3 s");
        assert_eq!(usd(3.0), "$3.00");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(plain(Some(1.0 / 3.0)), "0.33");
    }
}
