//! Codes for the errors async-graphql raises on its own, before or while it reads arguments: a
//! document that does not parse or validate, an `Int` out of range (`first: 99999999999`), a
//! variable the request declares but does not supply. They arrive without `extensions.code`;
//! each becomes `BAD_USER_INPUT` naming the part of the request at fault in
//! `extensions.field`: the variable, when the error is about one, else the argument it points
//! at, else `query` (the document) for an error of the request as a whole.
//!
//! Errors are matched to arguments by position: async-graphql locates an argument's parse
//! error at the argument's value and a validation error at its name, while an error a resolver
//! raises is located at its field. Messages are read only where position cannot tell: a
//! variable not supplied names itself, and a page size that does not parse as an `Int`, found
//! while the complexity is weighed (before validation ends), is located at its field.
//!
//! Must not: touch an error that already has a code (every error of ours does), reword a
//! message, or give a code to an error with a path that points at no argument (a resolver
//! failure is not the caller's input).

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Response, ServerError, Value};

const BAD_USER_INPUT: &str = "BAD_USER_INPUT";

/// The request's document text, for [`respond`]. Once the document is parsed (admission has
/// read it) the schema reads only the parsed form, so the text is taken rather than copied.
pub fn take_query(request: &mut Request) -> String {
    match request.parsed_query() {
        Ok(_) => std::mem::take(&mut request.query),
        Err(_) => request.query.clone(),
    }
}

/// Codes the uncoded errors of `response` to the request whose text is `query`; returns
/// whether it is a request error (no data, and no error with a path: the document or a limit
/// failed as a whole, nothing ran).
pub fn respond(response: &mut Response, query: &str) -> bool {
    let request_error = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    code(&mut response.errors, query, request_error);
    request_error
}

/// Gives every uncoded error of a response its code and field. `query` is the request's
/// document text (parsed again only when an error needs placing); `request_error` says the
/// whole request failed (no data, no error with a path), whose unplaced errors are the
/// document's.
pub fn code(errors: &mut [ServerError], query: &str, request_error: bool) {
    let uncoded = |e: &ServerError| e.extensions.as_ref().is_none_or(|x| x.get("code").is_none());
    if !errors.iter().any(uncoded) {
        return;
    }
    let doc = async_graphql::parser::parse_query(query).ok();
    for error in errors.iter_mut().filter(|e| uncoded(e)) {
        let field = doc.as_ref().and_then(|doc| place(error, doc));
        let field = match (field, request_error) {
            (Some(field), _) => field,
            (None, true) => "query".to_owned(),
            (None, false) => continue,
        };
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", BAD_USER_INPUT);
        extensions.set("field", field);
    }
}

/// The variable or argument `error` is about, if it points at one.
fn place(error: &ServerError, doc: &ExecutableDocument) -> Option<String> {
    if let Some(name) = undefined_variable(&error.message) {
        return Some(name);
    }
    let at = *error.locations.first()?;
    let fields = crate::limits::operation::every_field(doc);
    for field in &fields {
        for (name, value) in &field.node.arguments {
            if name.pos == at || value.pos == at {
                return Some(argument_or_variable(&name.node, &value.node.to_string()));
            }
        }
    }
    // A page size that does not parse as an `Int`, found while weighing the complexity: located
    // at its field. The argument is the literal integer beyond 32 bits, or else the page size
    // `first`, the only argument the complexity weighs (`graphql::page_weight`).
    let unparsable = ["Failed to parse ", "Expected input type "];
    if unparsable.iter().any(|shape| error.message.starts_with(shape)) {
        let field = &fields.iter().find(|f| f.pos == at)?.node;
        let literal_wide = field.arguments.iter().find(|(_, value)| {
            let literal = value.node.clone().into_const_with(|_| Ok::<_, ()>(Value::Null));
            literal.is_ok_and(|v| wide(&v))
        });
        let (name, value) = literal_wide.or_else(|| field.arguments.iter().find(|(name, _)| name.node == "first"))?;
        return Some(argument_or_variable(&name.node, &value.node.to_string()));
    }
    None
}

/// `Variable x is not defined.` (while resolving) or `Variable "$x" is not defined` (while
/// validating): the variable's name.
fn undefined_variable(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Variable ")?;
    let (name, _) = rest.split_once(" is not defined")?;
    let name = name.trim_matches('"').trim_start_matches('$');
    (!name.is_empty() && !name.contains(' ')).then(|| name.to_owned())
}

/// A variable standing for the whole argument is named itself, as that is what the caller
/// sent; `value` is the argument as written (a variable prints as `$name`, nothing else
/// starts with `$`).
fn argument_or_variable(argument: &str, value: &str) -> String {
    value.strip_prefix('$').unwrap_or(argument).to_owned()
}

/// Whether `value` holds a whole number that does not fit 32 bits.
fn wide(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            let integral = n.as_f64().is_some_and(|f| f.fract() == 0.0);
            integral && n.as_i64().is_none_or(|i| i32::try_from(i).is_err())
        }
        Value::List(items) => items.iter().any(wide),
        Value::Object(fields) => fields.values().any(wide),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(message: &str, line: usize, column: usize) -> ServerError {
        ServerError::new(message, Some(async_graphql::Pos { line, column }))
    }

    fn field_of(e: &ServerError) -> Option<String> {
        let x = e.extensions.as_ref()?;
        assert_eq!(x.get("code"), Some(&Value::from(BAD_USER_INPUT)));
        match x.get("field") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    #[test]
    fn an_argument_parse_error_names_the_argument_or_its_variable() {
        let query = "{ protocols(first: 99999999999) { edges { cursor } } }";
        // The value `99999999999` starts at column 20.
        let mut errors = vec![error(
            "Failed to parse \"Int\": Only integers from -2147483648 to 2147483647 are accepted.",
            1,
            20,
        )];
        code(&mut errors, query, false);
        assert_eq!(field_of(&errors[0]).as_deref(), Some("first"));

        let query = "query($n: Int) { protocols(first: $n) { edges { cursor } } }";
        let mut errors = vec![error("Failed to parse \"Int\": Only integers from …", 1, 35)];
        code(&mut errors, query, false);
        assert_eq!(field_of(&errors[0]).as_deref(), Some("n"));
    }

    #[test]
    fn a_missing_variable_is_named() {
        let query = "query($p: String!) { logDose(protocolId: $p, itemId: \"x\") { position } }";
        for message in ["Variable p is not defined.", "Variable \"$p\" is not defined"] {
            let mut errors = vec![error(message, 1, 42)];
            code(&mut errors, query, false);
            assert_eq!(field_of(&errors[0]).as_deref(), Some("p"), "{message}");
        }
    }

    #[test]
    fn a_wide_page_size_found_while_weighing_is_named_from_its_field() {
        let query = "{ protocols(after: \"x\", first: 99999999999) { edges { cursor } } }";
        // Located at the field `protocols` (column 3).
        let mut errors = vec![error(
            "Failed to parse \"Int\": Only integers from -2147483648 to 2147483647 are accepted.",
            1,
            3,
        )];
        code(&mut errors, query, true);
        assert_eq!(field_of(&errors[0]).as_deref(), Some("first"));
        // Sent in a variable: the variable is named.
        let query = "query($n: Int) { protocols(first: $n) { edges { cursor } } }";
        let mut errors = vec![error(
            "Failed to parse \"Int\": Only integers from -2147483648 to 2147483647 are accepted.",
            1,
            18,
        )];
        code(&mut errors, query, true);
        assert_eq!(field_of(&errors[0]).as_deref(), Some("n"));
    }

    #[test]
    fn a_page_size_of_the_wrong_type_found_while_weighing_is_named_too() {
        let query = "{ protocols(first: \"abc\") { edges { cursor } } }";
        let mut errors = vec![error("Expected input type \"Int\", found \"abc\".", 1, 3)];
        code(&mut errors, query, true);
        assert_eq!(field_of(&errors[0]).as_deref(), Some("first"));
    }

    #[test]
    fn coded_or_unplaced_errors_are_left_alone_unless_the_request_failed_whole() {
        let query = "{ me { handle } }";
        let mut coded = error("not signed in", 1, 3);
        coded.extensions = Some(Default::default());
        if let Some(x) = coded.extensions.as_mut() {
            x.set("code", "UNAUTHENTICATED");
        }
        let mut errors = vec![coded, error("a resolver failed", 1, 3)];
        code(&mut errors, query, false);
        assert_eq!(
            errors[0].extensions.as_ref().and_then(|x| x.get("code")),
            Some(&Value::from("UNAUTHENTICATED"))
        );
        assert!(errors[1].extensions.is_none(), "a resolver's own failure is not input");
        let mut errors = vec![error("Unknown field \"nonsense\"", 1, 14)];
        code(&mut errors, query, true);
        assert_eq!(field_of(&errors[0]).as_deref(), Some("query"));
    }
}
