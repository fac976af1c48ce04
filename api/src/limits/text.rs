//! Characters no input may carry: C0 and C1 control characters other than tab, line feed and
//! carriage return (NUL, the ANSI escape that recolours a terminal, DEL, …), and the Unicode
//! bidirectional overrides and isolates that make text display in another order than it is
//! stored (U+202A–U+202E, U+2066–U+2069, and the marks U+200E, U+200F, U+061C). They are
//! refused, not stripped, so nothing a person typed is silently changed: the request is
//! `BAD_USER_INPUT` naming the argument or variable that holds one. Checked once for the
//! whole request (every variable and every literal argument), before any field runs.

use async_graphql::Value;
use async_graphql::parser::types::ExecutableDocument;

/// Whether `c` may appear in an input string.
pub fn allowed(c: char) -> bool {
    let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}');
    let control = c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    !bidi && !control
}

/// The first variable holding a refused character.
pub fn refused_variable(variables: &async_graphql::Variables) -> Option<String> {
    variables
        .iter()
        .find(|(_, value)| !clean(value))
        .map(|(name, _)| name.to_string())
}

/// The first literal argument of `doc` holding a refused character.
pub fn refused_literal(doc: &ExecutableDocument) -> Option<String> {
    super::operation::every_field(doc).into_iter().find_map(|field| {
        field.node.arguments.iter().find_map(|(name, value)| {
            // Variables stand in as null: `refused_variable` checks them.
            let literal = value.node.clone().into_const_with(|_| Ok::<_, ()>(Value::Null));
            (!literal.is_ok_and(|v| clean(&v))).then(|| name.node.to_string())
        })
    })
}

fn clean(value: &Value) -> bool {
    match value {
        Value::String(s) => s.chars().all(allowed),
        Value::List(items) => items.iter().all(clean),
        Value::Object(fields) => fields.iter().all(|(k, v)| k.chars().all(allowed) && clean(v)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_refused_but_line_breaks_are_not() {
        for ok in ['a', 'é', '\n', '\t', '\r', '€', '🙂'] {
            assert!(allowed(ok), "{ok:?}");
        }
        for bad in ['\0', '\u{1b}', '\u{7f}', '\u{85}', '\u{202E}', '\u{2066}', '\u{200F}'] {
            assert!(!allowed(bad), "{bad:?}");
        }
    }
}
