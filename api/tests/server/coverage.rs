//! Every root field of the schema has an end-to-end test: the fields `vigil schema` prints
//! (the binary's own schema, not a copy) against the GraphQL documents written in this
//! directory's tests. A field that appears in no document fails the test by name, so a new
//! operation arrives with its test. A document whose arguments hold the placeholder `"x"`
//! does not count: `access.rs` sends such probes to prove staff are refused before any
//! argument is read, which runs nothing of the operation itself.

use std::collections::BTreeSet;
use std::path::Path;

use async_graphql::Name;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet, TypeKind, TypeSystemDefinition,
};

/// The root fields of the schema the binary serves, by root type.
fn root_fields() -> Vec<(String, String)> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success(), "vigil schema failed");
    let sdl = String::from_utf8(out.stdout).unwrap();
    let schema = async_graphql::parser::parse_schema(&sdl).unwrap();
    let mut roots = vec!["Query".to_owned(), "Mutation".to_owned(), "Subscription".to_owned()];
    let mut fields = Vec::new();
    for definition in &schema.definitions {
        if let TypeSystemDefinition::Schema(s) = definition {
            let named = [&s.node.query, &s.node.mutation, &s.node.subscription];
            roots = named
                .iter()
                .filter_map(|n| n.as_ref())
                .map(|n| n.node.to_string())
                .collect();
        }
    }
    for definition in &schema.definitions {
        let TypeSystemDefinition::Type(t) = definition else {
            continue;
        };
        let root = t.node.name.node.to_string();
        if let (true, TypeKind::Object(object)) = (roots.contains(&root), &t.node.kind) {
            fields.extend(
                object
                    .fields
                    .iter()
                    .map(|f| (root.clone(), f.node.name.node.to_string())),
            );
        }
    }
    fields
}

/// The string literals of Rust source, unescaped; a `format!` template's placeholders become
/// `__typename` (a valid name wherever GraphQL takes one) and its doubled braces single.
fn literals(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' if chars.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
            }
            '\'' if chars.get(i + 2) == Some(&'\'') => i += 2,
            'r' if raw_string_at(&chars, i) => {
                let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
                let start = i + 1 + hashes + 1;
                let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let rest: String = chars[start..].iter().collect();
                let end = rest.find(&close).unwrap();
                found.push(rest[..end].to_owned());
                i = start + rest[..end].chars().count() + close.chars().count() - 1;
            }
            '"' => {
                let template = chars[..i].iter().collect::<String>().trim_end().ends_with("format!(");
                let mut text = String::new();
                i += 1;
                while chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                        match chars[i] {
                            'n' => text.push('\n'),
                            't' => text.push('\t'),
                            'u' => {
                                let close = i + chars[i..].iter().position(|c| *c == '}').unwrap();
                                let hex: String = chars[i + 2..close].iter().collect();
                                text.extend(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()));
                                i = close;
                            }
                            '\n' => {
                                while chars[i + 1].is_whitespace() {
                                    i += 1;
                                }
                            }
                            other => text.push(other),
                        }
                    } else {
                        text.push(chars[i]);
                    }
                    i += 1;
                }
                found.push(if template { fill(&text) } else { text });
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Whether a raw string literal (`r"…"`, `r#"…"#`) opens at `i`, not a raw identifier.
fn raw_string_at(chars: &[char], i: usize) -> bool {
    let glued = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
    !glued && chars.get(i + 1 + hashes) == Some(&'"')
}

/// A `format!` template as text: `{{`/`}}` single, each `{placeholder}` a name.
fn fill(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if let (true, Some(end)) = (tail.starts_with('{'), tail.find('}')) {
            out.push_str("__typename");
            rest = &tail[end + 1..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The document a literal holds: a whole one, or a selection spliced into one elsewhere
/// (then only fields with arguments or a selection count, so that a JSON key like `"me"`
/// is no document).
fn document(text: &str) -> Option<(ExecutableDocument, bool)> {
    let trimmed = text.trim_start();
    let whole = ["{", "query", "mutation", "subscription", "fragment"]
        .iter()
        .any(|start| trimmed.starts_with(start));
    if whole && let Ok(doc) = async_graphql::parser::parse_query(text) {
        return Some((doc, true));
    }
    async_graphql::parser::parse_query(format!("{{ {text} }}"))
        .ok()
        .map(|doc| (doc, false))
}

/// The root fields a document runs, less placeholder probes.
fn exercised(doc: &ExecutableDocument, whole: bool, into: &mut BTreeSet<String>) {
    fn walk(doc: &ExecutableDocument, set: &SelectionSet, whole: bool, into: &mut BTreeSet<String>) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let probe = field
                        .arguments
                        .iter()
                        .any(|(_, value)| value.node.to_string() == "\"x\"");
                    let shaped = !field.arguments.is_empty() || !field.selection_set.node.items.is_empty();
                    let name = field.name.node.to_string();
                    if !probe && (whole || shaped) && !name.starts_with("__") {
                        into.insert(name);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name: &Name = &spread.node.fragment_name.node;
                    if let Some(fragment) = doc.fragments.get(name) {
                        walk(doc, &fragment.node.selection_set.node, whole, into);
                    }
                }
                Selection::InlineFragment(inline) => walk(doc, &inline.node.selection_set.node, whole, into),
            }
        }
    }
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    for op in operations {
        walk(doc, &op.node.selection_set.node, whole, into);
    }
}

/// Root fields exercised by the documents of every test file here but this one.
fn tested() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/server");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("coverage.rs") {
            continue;
        }
        for text in literals(&std::fs::read_to_string(&path).unwrap()) {
            if let Some((doc, whole)) = document(&text) {
                exercised(&doc, whole, &mut names);
            }
        }
    }
    names
}

#[test]
fn every_root_field_of_the_schema_has_an_end_to_end_test() {
    let fields = root_fields();
    assert!(fields.len() > 40, "the schema's root fields were not found: {fields:?}");
    let tested = tested();
    let missing: Vec<String> = fields
        .iter()
        .filter(|(_, name)| !tested.contains(name))
        .map(|(root, name)| format!("{root}.{name}"))
        .collect();
    assert!(
        missing.is_empty(),
        "root fields without an end-to-end test under api/tests/server: {missing:?}"
    );
}

#[test]
fn the_scan_finds_documents_in_literals_templates_and_splices_but_not_probes_or_keys() {
    let source = r####"
        let a = "mutation { logout }";
        let b = format!("{{ me {{ handle }} a: {field}(first: 1) {{ edges {{ cursor }} }} }}");
        let c = "updateSettings(weightUnit: \"kg\") { position }";
        let d = r#"{ dashboard { latestPanel { id } } }"#;
        let e = "{ adherence(protocolId: \"x\") { due } }";
        let f = data["estimatedLevels"]; // { estimatedLevels(protocolId: "p") { substance } }
        let g = '"'; let h = "{ markerSeries(marker: \"hematocrit\") \
                 { value } }";
    "####;
    let mut names = BTreeSet::new();
    for text in literals(source) {
        if let Some((doc, whole)) = document(&text) {
            exercised(&doc, whole, &mut names);
        }
    }
    let expected = ["dashboard", "logout", "markerSeries", "me", "updateSettings"];
    assert_eq!(names, expected.iter().map(|n| (*n).to_owned()).collect());
}
