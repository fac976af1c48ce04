//! The root fields an operation executes, counted per occurrence. Fragment spreads and
//! inline fragments at the root are expanded (a fragment can only be spread where its type
//! fits, so at the root it selects root fields); `@skip`/`@include` are ignored, so a field
//! that might be skipped still counts (a client cannot lower its count by hiding fields
//! behind a variable).

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
};

/// Spreads expanded at most: deeper nesting (or a cycle, which validation refuses later)
/// counts as one more field, so a document cannot make this walk expensive.
const MAX_EXPANSIONS: usize = 64;

/// What an operation would execute at its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Query, mutation or subscription.
    pub ty: OperationType,
    /// Each root field's schema name (not its alias), once per occurrence.
    pub root_fields: Vec<String>,
}

/// The operation `name` selects in `doc` (the only one when `name` is `None`), or `None`
/// when there is no such operation (the schema then reports that error itself).
pub fn select<'d>(doc: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d Positioned<OperationDefinition>> {
    match name {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name))
            .map(|(_, op)| op),
        None => {
            let mut all = doc.operations.iter();
            let first = all.next();
            if all.next().is_some() {
                return None;
            }
            first.map(|(_, op)| op)
        }
    }
}

/// What the operation `name` selects in `doc` would execute at its root (see [`select`]).
pub fn analyse(doc: &ExecutableDocument, name: Option<&str>) -> Option<Operation> {
    let operation = select(doc, name)?;
    let root_fields = root_fields(doc, &operation.node)
        .into_iter()
        .map(|field| field.map_or_else(String::new, |f| f.name.node.to_string()))
        .collect();
    Some(Operation {
        ty: operation.node.ty,
        root_fields,
    })
}

/// The root fields of `operation`, fragments expanded; `None` stands for a spread of an
/// unknown fragment (validation refuses it) or one nested too deep: it counts as one field.
pub fn root_fields<'d>(doc: &'d ExecutableDocument, operation: &'d OperationDefinition) -> Vec<Option<&'d Field>> {
    let mut out = Vec::new();
    let mut expansions = 0;
    collect(doc, &operation.selection_set.node, &mut out, &mut expansions);
    out
}

/// Every field anywhere in `doc` (every operation and fragment), with where it starts (its
/// alias or name, as async-graphql locates a field's errors), walked without recursion so a
/// deeply nested document cannot exhaust the stack here.
pub fn every_field(doc: &ExecutableDocument) -> Vec<&Positioned<Field>> {
    let mut pending: Vec<&SelectionSet> = doc
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .chain(doc.fragments.values().map(|f| &f.node.selection_set.node))
        .collect();
    let mut fields = Vec::new();
    while let Some(set) = pending.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    fields.push(field);
                    pending.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => pending.push(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    fields
}

/// Aliased fields anywhere in `doc`.
pub fn aliases(doc: &ExecutableDocument) -> usize {
    every_field(doc).iter().filter(|f| f.node.alias.is_some()).count()
}

fn collect<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    out: &mut Vec<Option<&'d Field>>,
    expansions: &mut usize,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => out.push(Some(&field.node)),
            Selection::InlineFragment(fragment) => {
                *expansions += 1;
                if *expansions > MAX_EXPANSIONS {
                    out.push(None);
                    continue;
                }
                collect(doc, &fragment.node.selection_set.node, out, expansions);
            }
            Selection::FragmentSpread(spread) => {
                *expansions += 1;
                let fragment = doc.fragments.get(&spread.node.fragment_name.node);
                match fragment {
                    Some(fragment) if *expansions <= MAX_EXPANSIONS => {
                        collect(doc, &fragment.node.selection_set.node, out, expansions);
                    }
                    // Unknown (validation refuses it) or too deep: one field.
                    _ => out.push(None),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn fields(query: &str, name: Option<&str>) -> Vec<String> {
        let doc = parse_query(query).expect("parses");
        analyse(&doc, name).expect("an operation").root_fields
    }

    #[test]
    fn aliases_count_once_each_under_their_schema_name() {
        let query = "mutation { a: login(email: \"x\", password: \"y\") { status } \
                     b: login(email: \"x\", password: \"z\") { status } logout }";
        assert_eq!(fields(query, None), ["login", "login", "logout"]);
    }

    #[test]
    fn fragments_at_the_root_are_expanded() {
        let query = "mutation M { ...F ... on Mutation { logout } } \
                     fragment F on Mutation { login(email: \"x\", password: \"y\") { status } x: login(email: \"x\", password: \"y\") { status } }";
        assert_eq!(fields(query, Some("M")), ["login", "login", "logout"]);
    }

    #[test]
    fn aliases_are_counted_everywhere() {
        let doc = parse_query("query { a: me { b: id } ...F } fragment F on Query { c: me { id } }").expect("parses");
        assert_eq!(aliases(&doc), 3);
    }

    #[test]
    fn a_cycle_or_an_unknown_fragment_stays_bounded() {
        let query = "query { ...A } fragment A on Query { me { id } ...A }";
        let counted = fields(query, None);
        assert!(counted.len() <= MAX_EXPANSIONS + 2, "{}", counted.len());
        assert_eq!(fields("query { ...Nope }", None), [""]);
    }

    #[test]
    fn the_named_operation_is_chosen_and_ambiguity_is_left_to_the_schema() {
        let query = "query A { me { id } } mutation B { logout }";
        let doc = parse_query(query).expect("parses");
        assert_eq!(analyse(&doc, Some("B")).map(|o| o.ty), Some(OperationType::Mutation));
        assert_eq!(analyse(&doc, None), None);
        assert_eq!(analyse(&doc, Some("C")), None);
    }
}
