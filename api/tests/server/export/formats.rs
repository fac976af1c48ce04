//! Reading what an export download holds: an RFC 4180 parser, the zip's members, and the
//! outside validators (`ops/ci/validate-export.py` in the virtualenv that
//! `ops/ci/ensure-export-validators.sh` makes; with `CI=true` a missing one fails the test).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The records of an RFC 4180 file: fields split on commas, quoted fields with doubled quotes
/// and line breaks inside, every record ended by CRLF. Anything else fails the test.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut fresh = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    assert!(
                        matches!(chars.peek(), Some(',' | '\r') | None),
                        "text after a closing quote in {text:?}"
                    );
                }
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(fresh, "a quote inside an unquoted field: {field:?}");
                quoted = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                fresh = true;
                continue;
            }
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                fresh = true;
                continue;
            }
            '\n' => panic!("a bare LF ends a record (RFC 4180 wants CRLF)"),
            other => field.push(other),
        }
        fresh = false;
    }
    assert!(!quoted, "an unterminated quoted field");
    assert!(field.is_empty() && record.is_empty(), "the last record lacks its CRLF");
    records
}

/// Each CSV file of the zip as rows of `column -> value`, header checked against every row.
pub fn csv_files(zip_bytes: &[u8]) -> BTreeMap<String, Vec<BTreeMap<String, String>>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).expect("a zip");
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).unwrap();
        let name = member.name().unwrap().into_owned();
        let mut text = String::new();
        member.read_to_string(&mut text).expect("UTF-8");
        let mut records = parse_csv(&text);
        assert!(!records.is_empty(), "{name} has no header");
        let header = records.remove(0);
        let rows = records
            .into_iter()
            .map(|r| {
                assert_eq!(r.len(), header.len(), "{name}: a record of another width");
                header.iter().cloned().zip(r).collect()
            })
            .collect();
        files.insert(name, rows);
    }
    files
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The validators' python, or `None` (skipping those checks) outside CI.
pub fn validators() -> Option<PathBuf> {
    vigil_tests::outside_tool(
        "VIGIL_TEST_EXPORT_PYTHON",
        "ops/ci/ensure-export-validators.sh",
        "the export validators",
    )
}

/// Runs `validate-export.py <kind> <file> [schema]` on `bytes`; fails the test with its
/// complaint.
pub fn validate(python: &Path, kind: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("export.{kind}"));
    std::fs::write(&file, bytes).unwrap();
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("ops/ci/validate-export.py")).arg(kind).arg(&file);
    if kind == "json" {
        cmd.arg(repo().join("docs/export/vigil-export-v1.schema.json"));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "validate-export.py {kind} refused the export: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rfc_4180_quoting_reads_back() {
    let rows = parse_csv("a,b\r\n\"x, \"\"y\"\"\",\"line\r\nbreak\"\r\n,\r\n");
    assert_eq!(
        rows,
        vec![
            vec!["a".to_owned(), "b".to_owned()],
            vec!["x, \"y\"".to_owned(), "line\r\nbreak".to_owned()],
            vec![String::new(), String::new()],
        ]
    );
}
