//! The security checklist in `docs/security.md` against the checkout: every item A1–G4 has its
//! row, each row names at least one test (or says why none applies), and every test it names
//! exists where `make test` runs it (cargo's test targets, pytest's `infra/tests`, node's
//! `tests/browser`), under that name.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds tests/")
        .to_path_buf()
}

/// The checklist's items, as `../shared/reference/security.md` numbers them.
const ITEMS: [(char, u32); 7] = [
    ('A', 8),
    ('B', 16),
    ('C', 11),
    ('D', 6),
    ('E', 5),
    ('F', 10),
    ('G', 4),
];

/// One row of the table: its id, the tests it names (`path::name`), and whether it says
/// why no test applies.
struct Row {
    id: String,
    tests: Vec<(String, String)>,
    not_applicable: bool,
}

fn rows(text: &str) -> Vec<Row> {
    let start = text
        .find("## The checklist, item by item")
        .expect("the checklist section");
    text[start..]
        .lines()
        .filter(|l| l.starts_with("| ") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            Row {
                id: cells[0].trim().to_owned(),
                tests: named_tests(cells[2]),
                not_applicable: line.contains("not applicable"),
            }
        })
        .collect()
}

/// Every `` `path::name` `` of a cell. A browser test's name is its whole title; a Rust or
/// Python test's is one identifier (a remark may follow it inside the span).
fn named_tests(cell: &str) -> Vec<(String, String)> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| span.split_once("::"))
        .filter(|(path, _)| path.contains('/'))
        .map(|(path, name)| {
            let name = if path.ends_with(".mjs") {
                name
            } else {
                name.split_whitespace().next().unwrap_or(name)
            };
            (path.to_owned(), name.to_owned())
        })
        .collect()
}

/// Where `make test` runs a file's tests, and how a test of that name is declared there.
fn declared(root: &Path, path: &str, name: &str) -> Result<(), String> {
    let file = root.join(path);
    let text = std::fs::read_to_string(&file).map_err(|_| format!("{path}: no such file"))?;
    let runs = path.starts_with("infra/tests/test_") && path.ends_with(".py")
        || path.starts_with("tests/browser/") && path.ends_with(".test.mjs")
        || path.ends_with(".rs")
            && ["shared/", "functions/", "tests/tests/", "local/"]
                .iter()
                .any(|p| path.starts_with(p));
    if !runs {
        return Err(format!("{path}: not a file make test runs"));
    }
    let found = if path.ends_with(".py") {
        text.contains(&format!("def {name}("))
    } else if path.ends_with(".mjs") {
        let text = text.replace("\\'", "'");
        text.contains(&format!("'{name}'"))
            || text.contains(&format!("`{name}`"))
            || text.contains(&format!("\"{name}\""))
    } else if path == "tests/tests/port_contracts.rs" {
        // Store clauses live beside it and run once per store.
        let dir = root.join("tests/tests/port_contracts");
        let mut all = text.clone();
        for entry in std::fs::read_dir(dir).expect("port_contracts/") {
            all += &std::fs::read_to_string(entry.expect("entry").path()).expect("clause file");
        }
        all.contains(&format!("fn {name}("))
    } else {
        text.contains(&format!("fn {name}("))
    };
    if found {
        Ok(())
    } else {
        Err(format!("{path}::{name}: no such test"))
    }
}

fn problems(root: &Path, text: &str) -> Vec<String> {
    let rows = rows(text);
    let mut out = Vec::new();
    let expected: Vec<String> = ITEMS
        .iter()
        .flat_map(|(letter, n)| (1..=*n).map(move |i| format!("{letter}{i}")))
        .collect();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    if ids != expected {
        out.push(format!("rows {ids:?} are not the items {expected:?}"));
    }
    for row in &rows {
        if row.tests.is_empty() && !row.not_applicable {
            out.push(format!("{}: names no test", row.id));
        }
        for (path, name) in &row.tests {
            if let Err(e) = declared(root, path, name) {
                out.push(format!("{}: {e}", row.id));
            }
        }
    }
    out
}

#[test]
fn every_checklist_item_names_tests_that_exist_where_make_test_runs_them() {
    // GIVEN the checklist table of docs/security.md
    let root = root();
    let text = std::fs::read_to_string(root.join("docs/security.md")).expect("docs/security.md");
    // THEN every item has its row, and every test a row names is declared under that name
    let problems = problems(&root, &text);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_missing_item_a_renamed_test_and_a_row_without_tests_are_reported() {
    // GIVEN the table with one item dropped, one test renamed and one row left without tests
    let root = root();
    let text = std::fs::read_to_string(root.join("docs/security.md")).expect("docs/security.md");
    let broken = text
        .replace(
            "::minted_tokens_are_256_bit_base64url_and_distinct`",
            "::minted_tokens_are_renamed`",
        )
        .lines()
        .filter(|l| !l.starts_with("| G4 |"))
        .map(|l| {
            if l.starts_with("| D6 |") {
                "| D6 | One plain recipient address | none | — |".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    // WHEN it is checked
    let problems = problems(&root, &broken);
    // THEN each of the three is reported
    assert!(
        problems.iter().any(|p| p.starts_with("rows ")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("minted_tokens_are_renamed: no such test")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p == "D6: names no test"),
        "{problems:#?}"
    );
}
