//! The house's shape, checked from the source of `shared/src`: no module imports one that
//! imports it back (at every level: the top-level modules, and the children of each module),
//! the domain imports nothing outside itself, the flows name no AWS type or adapter, and files
//! and functions stay short enough to read. Test code (`#[cfg(test)]` items, `tests*.rs` files)
//! is left out. The last checks test the reader itself, so none of these can pass by not
//! looking.

#[path = "architecture/source.rs"]
mod source;

use std::path::Path;

use source::{
    cycles, functions, named_paths, names_identifier, non_test_files, read_tree, sibling_edges,
    SourceFile,
};

/// The longest a source file may be, in lines.
const MAX_FILE_LINES: usize = 500;
/// The longest a function may be, in lines, from `fn` to its closing brace.
const MAX_FUNCTION_LINES: usize = 80;

/// What the flows may not name: the AWS SDK and the adapters (the wiring names them).
const NOT_IN_SERVICE: [&str; 12] = [
    "aws_sdk_",
    "aws_config",
    "DynamoStore",
    "FileStore",
    "SqliteStore",
    "SqliteStore",
    "KmsVault",
    "LocalVault",
    "SesMailer",
    "Outbox",
    "OAuthHttp",
    "SystemClock",
];

/// Random generators other than the one home of secrets (`domain/secrets.rs`, `getrandom`,
/// the OS's generator) may not be named: every secret (link tokens, codes, keys, nonces, data
/// keys) must come from `secrets::random_bytes`.
const RANDOMNESS: [&str; 6] = [
    "getrandom",
    "rand",
    "fastrand",
    "OsRng",
    "thread_rng",
    "SmallRng",
];

/// Each file outside `domain/secrets.rs` that names a random generator.
fn randomness_outside_secrets(files: &[SourceFile]) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.path != "domain/secrets.rs")
        .flat_map(|f| {
            RANDOMNESS
                .iter()
                .filter(|w| names_identifier(&f.code, w))
                .map(move |w| format!("{} names {w}", f.path))
        })
        .collect()
}

/// The non-test files of `shared/src`.
fn shared_src() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = non_test_files(&read_tree(&src));
    assert!(
        files.iter().any(|f| f.path == "domain/mod.rs") && files.len() > 40,
        "the reader found shared/src: {} files",
        files.len()
    );
    files
}

/// The non-test files of an in-memory tree, in path order as [`read_tree`] gives them.
fn tree(files: &[(&str, &str)]) -> Vec<SourceFile> {
    let mut owned: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    owned.sort();
    non_test_files(&owned)
}

fn in_module<'a>(files: &'a [SourceFile], top: &str) -> Vec<&'a SourceFile> {
    files
        .iter()
        .filter(|f| f.module.first().is_some_and(|m| m == top))
        .collect()
}

/// Each path a domain file names that leads outside the domain.
fn domain_leaks(files: &[SourceFile]) -> Vec<String> {
    in_module(files, "domain")
        .into_iter()
        .flat_map(|f| {
            named_paths(&f.module, &f.code)
                .into_iter()
                .filter(|p| p.first().is_none_or(|m| m != "domain"))
                .map(move |p| format!("{} names {}", f.path, p.join("::")))
        })
        .collect()
}

/// Each AWS type or adapter a service file names.
fn service_adapter_names(files: &[SourceFile]) -> Vec<String> {
    in_module(files, "service")
        .into_iter()
        .flat_map(|f| {
            NOT_IN_SERVICE
                .iter()
                .filter(|w| names_identifier(&f.code, w))
                .map(move |w| format!("{} names {w}", f.path))
        })
        .collect()
}

/// Each file over `max` lines, with its length.
fn long_files<'a>(files: impl IntoIterator<Item = &'a SourceFile>, max: usize) -> Vec<String> {
    files
        .into_iter()
        .filter(|f| f.lines > max)
        .map(|f| format!("{} ({} lines)", f.path, f.lines))
        .collect()
}

/// Each function over `max` lines, with where it starts and its length.
fn long_functions<'a>(files: impl IntoIterator<Item = &'a SourceFile>, max: usize) -> Vec<String> {
    files
        .into_iter()
        .flat_map(|f| {
            functions(&f.code)
                .into_iter()
                .filter(|(_, _, len)| *len > max)
                .map(move |(name, line, len)| format!("{}:{line} {name} ({len} lines)", f.path))
        })
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    // GIVEN the imports between sibling modules of shared/src, at every level
    let edges = sibling_edges(&shared_src());
    assert!(
        edges.iter().any(|e| e.parent.is_empty()),
        "top-level imports were read"
    );
    // WHEN they are searched for groups that import one another
    let found = cycles(&edges);
    // THEN there are none
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn the_domain_imports_nothing_outside_itself() {
    // GIVEN the domain's files
    let files = shared_src();
    // WHEN every crate path they name is resolved
    let leaks = domain_leaks(&files);
    // THEN each stays in the domain
    assert!(leaks.is_empty(), "{leaks:#?}");
}

#[test]
fn nothing_under_service_names_an_aws_type_or_an_adapter() {
    // GIVEN the flows' files
    let files = shared_src();
    // WHEN they are searched for the AWS SDK and the adapters' names
    let named = service_adapter_names(&files);
    // THEN none is there: the flows see ports only
    assert!(named.is_empty(), "{named:#?}");
}

#[test]
fn randomness_comes_only_from_the_secrets_module() {
    // GIVEN the source of shared
    let files = shared_src();
    // THEN only domain/secrets.rs names a random generator, and it does name the OS's
    assert_eq!(randomness_outside_secrets(&files), Vec::<String>::new());
    let secrets = files
        .iter()
        .find(|f| f.path == "domain/secrets.rs")
        .expect("secrets.rs");
    assert!(names_identifier(&secrets.code, "getrandom"));
}

#[test]
fn a_generator_named_outside_the_secrets_module_is_found() {
    // GIVEN a tree where a flow draws a nonce from `rand` and secrets.rs from getrandom
    let files = tree(&[
        (
            "domain/secrets.rs",
            "pub fn random_bytes() { getrandom::getrandom(&mut b); }",
        ),
        (
            "service/x.rs",
            "fn nonce() -> u64 { rand::random() } // getrandom in a comment",
        ),
    ]);
    // THEN the flow's use is reported, the comment and secrets.rs are not
    assert_eq!(
        randomness_outside_secrets(&files),
        vec!["service/x.rs names rand".to_owned()]
    );
}

/// Each flow file, other than the one home of the rate limits, that counts a hit itself.
fn counters_outside_limits(files: &[SourceFile]) -> Vec<String> {
    in_module(files, "service")
        .into_iter()
        .filter(|f| f.path != "service/limits.rs" && names_identifier(&f.code, "count_hit_within"))
        .map(|f| f.path.clone())
        .collect()
}

#[test]
fn every_rate_limit_counts_through_its_one_home() {
    // GIVEN the flows of shared
    let files = shared_src();
    // THEN only service/limits.rs calls the store's counter, so every refusal writes the line
    // the template's RateLimitHits filter counts (checklist G3)
    assert_eq!(counters_outside_limits(&files), Vec::<String>::new());
    let limits = files
        .iter()
        .find(|f| f.path == "service/limits.rs")
        .expect("limits.rs");
    assert!(names_identifier(&limits.code, "count_hit_within"));
}

#[test]
fn a_flow_counting_a_hit_itself_is_found() {
    // GIVEN a tree where a flow calls the store's counter beside limits.rs
    let files = tree(&[
        ("service/limits.rs", "fn f() { store.count_hit_within(k) }"),
        ("service/x.rs", "fn g() { self.store.count_hit_within(k) }"),
        (
            "service/y.rs",
            "fn h() { self.count_hit(k) } // count_hit_within",
        ),
    ]);
    // THEN the flow is reported, the comment and limits.rs are not
    assert_eq!(
        counters_outside_limits(&files),
        vec!["service/x.rs".to_owned()]
    );
}

#[test]
fn no_source_file_is_over_500_lines() {
    // GIVEN the non-test files of shared/src THEN none is over the limit
    let long = long_files(&shared_src(), MAX_FILE_LINES);
    assert!(long.is_empty(), "{long:#?}");
}

#[test]
fn no_function_is_over_80_lines() {
    // GIVEN the non-test code of shared/src THEN no function is over the limit
    let long = long_functions(&shared_src(), MAX_FUNCTION_LINES);
    assert!(long.is_empty(), "{long:#?}");
}

#[test]
fn no_carts_file_is_over_500_lines() {
    // GIVEN the catalog's non-test files THEN none is over the limit
    let files = shared_src();
    let long = long_files(in_module(&files, "carts"), MAX_FILE_LINES);
    assert!(long.is_empty(), "{long:#?}");
}

#[test]
fn no_carts_function_is_over_80_lines() {
    // GIVEN the catalog's non-test code THEN no function is over the limit
    let files = shared_src();
    let long = long_functions(in_module(&files, "carts"), MAX_FUNCTION_LINES);
    assert!(long.is_empty(), "{long:#?}");
}

// The reader, on trees made to break each rule.

#[test]
fn a_cycle_between_siblings_is_found_even_through_a_reexport() {
    // GIVEN oauth's http calling described, and described naming http through oauth's re-export
    let files = tree(&[
        ("lib.rs", "pub mod oauth;"),
        (
            "oauth/mod.rs",
            "pub mod described;\npub mod http;\npub use http::describe;",
        ),
        (
            "oauth/http.rs",
            "fn f() { super::described::exchange(); }\npub fn describe() {}",
        ),
        (
            "oauth/described.rs",
            "use super::describe;\npub fn exchange() {}",
        ),
    ]);
    // WHEN cycles are searched
    let found = cycles(&sibling_edges(&files));
    // THEN the pair is reported with the files that make it
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("oauth:\n    described -> http"),
        "{}",
        found[0]
    );
    assert!(found[0].contains("oauth/http.rs names oauth::described::exchange"));
}

#[test]
fn a_cycle_between_top_level_modules_through_a_third_is_found() {
    // GIVEN carts -> config -> mailer -> carts, in use lines and an expression
    let files = tree(&[
        ("lib.rs", "pub mod carts;\npub mod config;\npub mod mailer;"),
        ("carts/mod.rs", "use crate::config::{self, Config};"),
        ("config.rs", "fn f() { crate::mailer::send(); }"),
        (
            "mailer/mod.rs",
            "use crate::{carts::CartSpec, domain::Secret};",
        ),
    ]);
    // THEN one group holds the three
    let found = cycles(&sibling_edges(&files));
    assert_eq!(found.len(), 1, "{found:?}");
    for edge in ["carts -> config", "config -> mailer", "mailer -> carts"] {
        assert!(found[0].contains(edge), "{edge}: {}", found[0]);
    }
}

#[test]
fn a_domain_path_leaving_the_domain_is_found_and_one_inside_is_not() {
    // GIVEN a domain file naming a sibling of its own and the vault
    let files = tree(&[
        ("lib.rs", "pub mod domain;\npub mod vault;"),
        ("domain/mod.rs", "pub mod connection;\npub mod ids;"),
        (
            "domain/connection.rs",
            "use super::ids::CartId;\nuse crate::vault::{SealContext, SealedBlob};",
        ),
    ]);
    // THEN only the vault's names are reported
    assert_eq!(
        domain_leaks(&files),
        [
            "domain/connection.rs names vault::SealContext",
            "domain/connection.rs names vault::SealedBlob"
        ]
    );
}

#[test]
fn an_sdk_type_or_an_adapter_under_service_is_found_but_not_in_comments_or_strings() {
    // GIVEN a flow naming the DynamoDB client and an adapter, and one that only mentions them
    let files = tree(&[
        ("lib.rs", "pub mod service;"),
        ("service/mod.rs", "pub mod a;\npub mod b;"),
        (
            "service/a.rs",
            "fn f(c: aws_sdk_dynamodb::Client) { FileStore::open(); }",
        ),
        (
            "service/b.rs",
            "// FileStore\nfn g() { let s = \"aws_sdk_kms\"; }",
        ),
    ]);
    // THEN only the first is reported, for each name
    assert_eq!(
        service_adapter_names(&files),
        [
            "service/a.rs names aws_sdk_",
            "service/a.rs names FileStore"
        ]
    );
}

#[test]
fn braces_in_literals_and_comments_do_not_change_a_function_s_length() {
    // GIVEN a function whose literals and comments hold unbalanced braces, then another
    let code = "fn a() {\n    let o = '{';\n    let s = \"}}\";\n    let r = r#\"{\"#;\n    // }\n    /* { */\n}\nfn b() {\n}\n";
    let files = tree(&[("lib.rs", code)]);
    // THEN each is measured from its fn to its own closing brace
    assert_eq!(
        functions(&files[0].code),
        [("a".to_owned(), 1, 7), ("b".to_owned(), 8, 2)]
    );
}

#[test]
fn a_function_over_the_limit_is_reported_and_one_at_it_is_not() {
    // GIVEN a function of 82 lines and one of 80
    let body = |name: &str, lines: usize| {
        format!("fn {name}() {{\n{}}}\n", "    x();\n".repeat(lines - 2))
    };
    let code = format!("{}{}", body("long", 82), body("fits", 80));
    let files = tree(&[("lib.rs", code.as_str())]);
    // THEN only the long one is reported
    assert_eq!(
        long_functions(&files, MAX_FUNCTION_LINES),
        ["lib.rs:1 long (82 lines)"]
    );
}

#[test]
fn test_modules_and_test_files_are_left_out() {
    // GIVEN a module whose tests are inline and in a file, and a long test function
    let long_test = format!("fn t() {{\n{}}}\n", "    x();\n".repeat(100));
    let inline = format!("pub fn f() {{}}\n#[cfg(test)]\nmod tests {{\n{long_test}}}\n");
    let files = tree(&[
        ("lib.rs", "pub mod a;"),
        ("a/mod.rs", "#[cfg(test)]\nmod table;\npub mod b;"),
        ("a/b.rs", inline.as_str()),
        ("a/table.rs", long_test.as_str()),
        ("a/tests.rs", long_test.as_str()),
    ]);
    // THEN the test files are not read, and the inline tests are blanked
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["a/b.rs", "a/mod.rs", "lib.rs"]);
    assert_eq!(functions(&files[0].code), [("f".to_owned(), 1, 1)]);
}
