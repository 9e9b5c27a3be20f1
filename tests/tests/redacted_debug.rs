//! No struct of ours that holds a secret as plain text can print it through a derived `Debug`
//! (checklist G2). Secrets are typed `Secret` (whose `Debug` is redacted) by convention; this
//! sweep over the non-test source of every crate finds a struct that derives `Debug` and has a
//! field named for a secret (`token`, `secret`, `password`, `verifier`, `api_key`) holding a
//! `String` or `str`, so the convention cannot be broken silently.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds tests/")
        .to_path_buf()
}

/// Fields named for a secret that hold none: what names where a cart's answer keeps a token
/// (a field name, not a value), or when a token ends.
const NOT_SECRETS: [(&str, &str); 2] = [
    // The cart token answer's description: `refresh_token` names the JSON field to read.
    ("DescribedRequest", "refresh_token"),
    // An account lookup's `token_header` names the header the token goes in (TikTok Shop's
    // `x-tts-access-token`), not the token.
    ("AccountLookup", "token_header"),
];

const SECRET_WORDS: [&str; 5] = ["token", "secret", "password", "verifier", "api_key"];
const NOT_SECRET_SUFFIXES: [&str; 4] = ["_url", "_env", "_expires_at", "_hint"];

/// The non-test Rust files of the crates (test files and inline test modules left out).
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" && name != "testing" {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") && !name.starts_with("tests") {
            let text = std::fs::read_to_string(&path).expect("source");
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_owned();
            out.push((path.display().to_string(), code));
        }
    }
}

/// `Struct.field` for each struct deriving `Debug` with a plain-text field named for a secret.
fn debug_printed_secrets(file: &str, code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut derives_debug = false;
    let mut current: Option<String> = None;
    for line in code.lines().map(str::trim) {
        if line.starts_with("#[derive(") {
            derives_debug = line.contains("Debug");
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("pub struct ")
            .or_else(|| line.strip_prefix("struct "))
            .or_else(|| line.strip_prefix("pub(crate) struct "))
        {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            current = (derives_debug && line.ends_with('{')).then_some(name);
            derives_debug = false;
            continue;
        }
        if line.starts_with('}') {
            current = None;
            continue;
        }
        let Some(strukt) = &current else {
            if !line.starts_with("#[") && !line.starts_with("///") {
                derives_debug = false;
            }
            continue;
        };
        let field = line
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ");
        let Some((name, ty)) = field.split_once(": ") else {
            continue;
        };
        let secret_named = SECRET_WORDS.iter().any(|w| name.contains(w))
            && !NOT_SECRET_SUFFIXES.iter().any(|s| name.ends_with(s));
        let plain = ty.contains("String") || ty.contains("str");
        if secret_named && plain && !NOT_SECRETS.contains(&(strukt.as_str(), name)) {
            found.push(format!("{file}: {strukt}.{name}"));
        }
    }
    found
}

#[test]
fn no_struct_prints_a_plain_text_secret_through_a_derived_debug() {
    // GIVEN the non-test source of shared, every function and the local server
    let root = root();
    let mut files = Vec::new();
    for dir in ["shared/src", "local/src"] {
        sources(&root.join(dir), &mut files);
    }
    for entry in std::fs::read_dir(root.join("functions")).expect("functions/") {
        sources(&entry.expect("entry").path().join("src"), &mut files);
    }
    assert!(files.len() > 50, "{} files", files.len());
    // WHEN each struct deriving Debug is read for fields named for a secret
    let found: Vec<String> = files
        .iter()
        .flat_map(|(file, code)| debug_printed_secrets(file, code))
        .collect();
    // THEN none holds one as plain text
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_derived_debug_over_a_plain_secret_is_found_and_a_typed_or_hand_written_one_is_not() {
    // GIVEN three structs: one deriving Debug over a String secret, one over a `Secret`, one
    // with a hand-written Debug
    let code = "
        #[derive(Clone, Debug, Serialize)]
        pub struct Leaky {
            /// The secret.
            pub id: String,
            pub signing_secret: Option<String>,
        }
        #[derive(Debug)]
        struct Typed {
            access_token: Secret,
            token_url: String,
        }
        #[derive(Serialize)]
        pub struct HandWritten {
            pub access_token: String,
        }
    ";
    // WHEN it is swept
    let found = debug_printed_secrets("x.rs", code);
    // THEN only the derived Debug over a String secret is reported
    assert_eq!(found, vec!["x.rs: Leaky.signing_secret".to_owned()]);
}
