//! Each binary carries only the adapter family it runs on, as `cargo tree` resolves it for that
//! package alone: a Lambda function the AWS adapters and no SQLite, the local server the
//! embedded adapters and no AWS SDK. Each check also finds the family that should be there, so
//! none passes by reading an empty tree. (That each package compiles alone is `make lint`'s.)

use cartlink_e2e::{cargo_tree, function_crates};
use std::collections::BTreeSet;

/// The names of the packages `package` is built from (normal dependencies, its default
/// features, resolved as if it were built alone).
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let names: BTreeSet<String> = cargo_tree(&["-p", package])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(
        names.contains("shared"),
        "{package} is built on shared: {names:?}"
    );
    names
}

fn aws_sdks(names: &BTreeSet<String>) -> Vec<&String> {
    names.iter().filter(|n| n.starts_with("aws-sdk-")).collect()
}

fn sqlite(names: &BTreeSet<String>) -> Vec<&String> {
    names
        .iter()
        .filter(|n| *n == "rusqlite" || n.starts_with("libsqlite3"))
        .collect()
}

#[test]
fn no_lambda_function_is_built_with_sqlite() {
    for function in function_crates() {
        // GIVEN a Lambda function's dependencies
        let names = normal_dependencies(&function);
        // THEN the AWS adapters' SDK is there
        assert!(names.contains("aws-sdk-dynamodb"), "{function}: {names:?}");
        // AND no SQLite
        assert!(
            sqlite(&names).is_empty(),
            "{function}: {:?}",
            sqlite(&names)
        );
    }
}

#[test]
fn the_local_server_is_built_without_the_aws_sdk() {
    // GIVEN the local server's dependencies
    let names = normal_dependencies("cartlink-local");
    // THEN the embedded adapters' SQLite is there
    assert!(names.contains("rusqlite"), "{names:?}");
    // AND no AWS SDK
    assert!(aws_sdks(&names).is_empty(), "{:?}", aws_sdks(&names));
}

#[test]
fn shared_without_a_family_is_built_with_neither() {
    // GIVEN shared's own dependencies without features: the domain, the ports and the flows
    let names = normal_dependencies("shared");
    // THEN neither family's adapters come with it
    assert!(aws_sdks(&names).is_empty(), "{:?}", aws_sdks(&names));
    assert!(sqlite(&names).is_empty(), "{:?}", sqlite(&names));
    assert!(!names.contains("aws-config"), "{names:?}");
}

#[test]
fn every_lambda_function_has_one_tls_crypto_provider_and_compiled_in_roots() {
    for function in function_crates() {
        // GIVEN a Lambda function's dependencies
        let names = normal_dependencies(&function);
        // THEN its one TLS crypto provider is ring (reqwest's), for the AWS SDK too
        assert!(names.contains("ring"), "{function}: {names:?}");
        let second: Vec<&String> = names.iter().filter(|n| n.starts_with("aws-lc")).collect();
        assert!(second.is_empty(), "{function}: {second:?}");
        // AND its roots are compiled in: nothing that could load the system store
        assert!(names.contains("webpki-roots"), "{function}: {names:?}");
        assert!(!names.contains("rustls-native-certs"), "{function}");
    }
}

#[test]
fn no_lambda_function_carries_a_full_regex_engine() {
    for function in function_crates() {
        // GIVEN a Lambda function's dependencies
        let names = normal_dependencies(&function);
        // THEN the catalog's patterns are its only regular expressions, by regex-lite: the log
        // filter is tracing's `Targets`, not `EnvFilter` (whose regex engine was about 230 kB of
        // every binary's code)
        let engines: Vec<&String> = names
            .iter()
            .filter(|n| n.as_str() == "regex" || n.starts_with("regex-automata"))
            .collect();
        assert!(engines.is_empty(), "{function}: {engines:?}");
    }
}
