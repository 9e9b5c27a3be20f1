//! The documentation against the checkout: the README stays short, every relative link in
//! `README.md` and `docs/*.md` reaches a file (and a heading, for `#anchor`s, by GitHub's slug
//! rules), the configuration table names every setting the code reads, and the callback refusal
//! table lists exactly the refusal codes.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use shared::config::{Config, ConfigText};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds tests/")
        .to_path_buf()
}

/// `README.md` and every `docs/*.md`, relative to the root.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(root).expect("under root").to_path_buf())
        .collect();
    docs.sort();
    docs.insert(0, PathBuf::from("README.md"));
    docs
}

/// The lines of a Markdown text outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push(line);
        }
    }
    out
}

/// A line without its inline code spans (a link inside backticks is text, not a link).
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        }
    }
    out
}

/// The targets of the inline links (`[text](target)`) and reference definitions
/// (`[label]: target`) of a Markdown text.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let line = without_code_spans(line);
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if let Some((_, rest)) = trimmed.split_once("]: ") {
                targets.push(rest.split_whitespace().next().unwrap_or("").to_owned());
                continue;
            }
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            targets.push(target.trim_matches(|c| c == '<' || c == '>').to_owned());
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading's text: inline code and link syntax dropped to their text,
/// lower case, every character but letters, digits, `_`, `-` and spaces removed, spaces made
/// `-`.
fn github_slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // `[text](url)` reads as `text`.
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("](") {
            Some(close) => {
                text.push_str(&after[..close]);
                let tail = &after[close + 2..];
                rest = tail.find(')').map_or("", |end| &tail[end + 1..]);
            }
            None => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of every heading of a Markdown text, repeats numbered as GitHub numbers them
/// (`-1`, `-2`, …).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = BTreeSet::new();
    for line in prose_lines(text) {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let slug = github_slug(&line[hashes..]);
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

/// `base/relative` with `.` and `..` resolved, if it stays inside the root.
fn resolve(base: &Path, relative: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in base.join(relative).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Every relative link of the documents under `root` that does not resolve, as
/// `document: target (why)`.
fn broken_links(root: &Path, documents: &[PathBuf]) -> Vec<String> {
    let mut broken = Vec::new();
    for doc in documents {
        let text = std::fs::read_to_string(root.join(doc)).expect("document");
        let dir = doc.parent().unwrap_or(Path::new(""));
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                Some(doc.clone())
            } else {
                resolve(dir, path)
            };
            let Some(file) = file.filter(|f| root.join(f).exists()) else {
                broken.push(format!("{}: {target} (no such file)", doc.display()));
                continue;
            };
            if let Some(anchor) = anchor {
                let heads = std::fs::read_to_string(root.join(&file))
                    .map(|t| anchors(&t))
                    .unwrap_or_default();
                if !heads.contains(anchor) {
                    broken.push(format!("{}: {target} (no such heading)", doc.display()));
                }
            }
        }
    }
    broken
}

#[test]
fn the_readme_is_at_most_150_lines() {
    // GIVEN the README of the checkout
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    // THEN it stays an entry, the rest living in docs/
    let lines = readme.lines().count();
    assert!(lines <= 150, "README.md has {lines} lines");
}

#[test]
fn every_relative_link_in_the_readme_and_the_docs_resolves() {
    // GIVEN README.md and every docs/*.md
    let root = root();
    let docs = documents(&root);
    assert!(docs.len() > 1, "docs/ holds the documentation");
    // WHEN every relative link is followed
    let broken = broken_links(&root, &docs);
    // THEN each names an existing file, and each anchor one of its headings
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_missing_file_or_heading_is_reported_and_code_is_not_a_link() {
    // GIVEN a document with one good link, a link to a missing file, a link to a missing
    // heading, and link syntax inside inline code and a fenced block
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("docs")).expect("docs");
    std::fs::write(
        dir.path().join("docs/a.md"),
        "# A\n\n## Second part\n\n[ok](#second-part) [gone](b.md) [lost](#third)\n\
         `[code](nowhere.md)`\n\n```\n[fenced](nowhere.md)\n# not a heading\n```\n\
         [def]: ../README.md#missing\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("README.md"), "# R\n").expect("write");
    // WHEN its links are checked
    let broken = broken_links(dir.path(), &[PathBuf::from("docs/a.md")]);
    // THEN exactly the three broken ones are reported
    assert_eq!(
        broken,
        vec![
            "docs/a.md: b.md (no such file)",
            "docs/a.md: #third (no such heading)",
            "docs/a.md: ../README.md#missing (no such heading)",
        ]
    );
}

#[test]
fn anchors_follow_github_slugs() {
    // GIVEN headings with code, punctuation, a link and a repeat
    let text = "# Built-in carts: `[cart_credentials.<id>]`\n## Secrets: one SSM SecureString \
                parameter\n## `make package`\n## See [api](api.md)\n## Notes\n## Notes\n";
    // THEN their anchors are GitHub's
    let expected: BTreeSet<String> = [
        "built-in-carts-cart_credentialsid",
        "secrets-one-ssm-securestring-parameter",
        "make-package",
        "see-api",
        "notes",
        "notes-1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(anchors(text), expected);
}

/// The keys serde expects where a TOML snippet put an unknown one, from the configuration's
/// own refusal (`unknown field `zzz`, expected one of `a`, `b``).
fn accepted_keys(snippet: &str) -> Vec<String> {
    let err = Config::load_with(
        &|_| None,
        Some(ConfigText {
            source: "probe".into(),
            text: snippet.into(),
        }),
    )
    .expect_err("an unknown key is refused")
    .0;
    let expected = err
        .split_once("expected")
        .unwrap_or_else(|| panic!("{err}"))
        .1;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_configuration_table_names_every_key_the_configuration_accepts() {
    // GIVEN docs/configuration.md
    let doc = std::fs::read_to_string(root().join("docs/configuration.md")).expect("doc");
    // WHEN the configuration is asked which keys each of its tables accepts
    let probes = [
        "zzz = 1",
        "[[warehouses]]\nzzz = 1",
        "[[carts]]\nzzz = 1",
        "[cart_credentials.shopify]\nzzz = 1",
        "[ebay_account_deletion]\nzzz = 1",
        "[square_webhooks]\nzzz = 1",
        "[wix_webhooks]\nzzz = 1",
        "[[carts]]\n[carts.input]\nzzz = 1",
        "[[carts]]\n[[carts.input.choices]]\nzzz = 1",
        "[[carts]]\n[carts.callback]\nzzz = 1",
        "[[carts]]\n[carts.callback.account]\nzzz = 1",
        "[[carts]]\n[carts.token_request]\nkind = \"described\"\nzzz = 1",
        "[[carts]]\n[carts.token_request]\nkind = \"oauth1\"\nzzz = 1",
        "[[carts]]\n[carts.refresh]\nkind = \"zzz\"",
        "[[carts]]\n[carts.token_request]\nkind = \"zzz\"",
        "[[carts]]\nflavour = \"zzz\"",
    ];
    for probe in probes {
        let keys = accepted_keys(probe);
        assert!(keys.len() > 1, "{probe}: {keys:?}");
        // THEN the document names each of them, as a key or as a table
        for key in keys {
            let named = [
                format!("`{key}`"),
                format!("[[{key}]]"),
                format!("[{key}."),
                format!(".{key}]"),
            ];
            assert!(
                named.iter().any(|n| doc.contains(n.as_str())),
                "docs/configuration.md does not name `{key}` ({probe:?})"
            );
        }
    }
}

/// The `CARTLINK_*` names in a text.
fn cartlink_variables(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("CARTLINK_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        out.insert(name);
    }
    out
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_configuration_table_names_exactly_the_variables_the_code_reads() {
    // GIVEN the `CARTLINK_*` variables the service's code names (shared, local, functions)
    // and the command-line client's
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("shared/src"), &mut files);
    rust_files(&root.join("local/src"), &mut files);
    rust_files(&root.join("cli/src"), &mut files);
    for f in std::fs::read_dir(root.join("functions")).expect("functions") {
        rust_files(&f.expect("entry").path().join("src"), &mut files);
    }
    let mut read = BTreeSet::new();
    for f in files {
        read.extend(cartlink_variables(
            &std::fs::read_to_string(f).expect("source"),
        ));
    }
    assert!(read.contains("CARTLINK_PUBLIC_BASE_URL"), "{read:?}");
    // WHEN the configuration table is read
    let doc = std::fs::read_to_string(root.join("docs/configuration.md")).expect("doc");
    let documented = cartlink_variables(&doc);
    // THEN it names each, and no other
    assert_eq!(documented, read);
}

/// The codes in the first column of the table under `heading` in a Markdown text.
fn table_codes(text: &str, heading: &str) -> Vec<String> {
    let section = text
        .split_once(heading)
        .map(|(_, after)| after.split("\n## ").next().unwrap_or(""))
        .unwrap_or("");
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(code, _)| code.to_owned())
        .collect()
}

#[test]
fn the_callback_refusals_in_the_api_docs_are_exactly_the_codes_of_the_code() {
    // GIVEN every refusal code the services can answer
    let codes: Vec<String> = shared::domain::Refusal::ALL
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect();
    // WHEN docs/api.md's table of callback refusals is read
    let doc = std::fs::read_to_string(root().join("docs/api.md")).expect("doc");
    let documented = table_codes(&doc, "## Callback refusals");
    // THEN it lists each once, in the code's order, and no other
    assert_eq!(documented, codes);
}

#[test]
fn a_refusal_missing_from_the_table_or_added_to_it_is_seen() {
    // GIVEN a table of two codes, with another section after it
    let doc = "## Callback refusals\n\n| code | meaning |\n| --- | --- |\n| `a_b` | x |\n\
               | `c` | y |\n\n## Next\n\n| `d` | z |\n";
    // THEN exactly its two codes are read
    assert_eq!(table_codes(doc, "## Callback refusals"), ["a_b", "c"]);
    // AND a document without the section lists none
    assert!(table_codes("# Other\n| `a` | x |\n", "## Callback refusals").is_empty());
}
