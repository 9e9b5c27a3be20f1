//! `sam build` builds the functions one at a time, each with `cargo lambda build` in its own
//! directory, so cargo resolves each function's features as if it were built alone. A
//! dependency whose features differ between two functions is compiled once per feature set,
//! and so is everything built on it: when serde's features differed, `make package` compiled
//! the AWS SDKs twice, and part of them a third time; when a build script's host crates
//! differed, `shared`, built on its build script, was compiled again. `make package` also
//! builds all ten in one `cargo lambda build` first, which `sam build` then finds built only
//! when each function alone resolves what the ten together do. These checks read what
//! `cargo tree` resolves for each function, for the target Lambda runs on.

use cartlink_e2e::{cargo_tree, function_crates};
use std::collections::{BTreeMap, BTreeSet};

/// The target `make package` builds for (the template's `Architectures: [arm64]`).
const LAMBDA_TARGET: &str = "aarch64-unknown-linux-gnu";

/// Each package `package` is built from (normal dependencies for Lambda's target, and the host
/// crates of its build scripts, resolved as if it were built alone), with its version, mapped
/// to its features: one variant, or two for a crate compiled for both the target and the host.
fn resolved_features(package: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut resolved: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let tree = cargo_tree(&[
        "-e",
        "build",
        "--target",
        LAMBDA_TARGET,
        "-f",
        "{p}|{f}",
        "-p",
        package,
    ]);
    for (p, f) in tree.lines().filter_map(|l| l.split_once('|')) {
        // "serde v1.0.1" or "shared v0.1.0 (/path)"; a repeated subtree ends in " (*)"
        let mut words = p.split_whitespace();
        let name = words.next().unwrap_or_default();
        let version = words.next().unwrap_or_default();
        resolved
            .entry(format!("{name} {version}"))
            .or_default()
            .insert(f.trim_end_matches(" (*)").to_owned());
    }
    assert!(
        resolved.keys().any(|k| k.starts_with("serde ")),
        "{package}'s tree was read: {resolved:?}"
    );
    resolved
}

/// The packages whose features differ between two functions' trees that both have them.
fn differing(trees: &[BTreeMap<String, BTreeSet<String>>]) -> BTreeSet<String> {
    let mut seen: BTreeMap<&str, BTreeSet<&BTreeSet<String>>> = BTreeMap::new();
    for tree in trees {
        for (package, variants) in tree {
            seen.entry(package.as_str()).or_default().insert(variants);
        }
    }
    seen.into_iter()
        .filter(|(_, variants)| variants.len() > 1)
        .map(|(package, _)| package.split(' ').next().unwrap_or(package).to_owned())
        .collect()
}

#[test]
fn the_functions_share_one_compile_of_their_dependencies() {
    // GIVEN every function's tree as `sam build` resolves it, one function at a time
    let trees: Vec<BTreeMap<String, BTreeSet<String>>> = function_crates()
        .iter()
        .map(|f| resolved_features(f))
        .collect();
    // THEN a dependency two functions share has the same features in both. (A dependency
    // compiled with other features is compiled again, with everything built on it; `shared`
    // builds on `aws_lambda_events` through `lambda_http`.)
    let differ = differing(&trees);
    assert!(
        differ.is_empty(),
        "compiled once per feature set (ask for the features in [workspace.dependencies]): {differ:?}"
    );
}

#[test]
fn a_dependency_with_other_features_is_found() {
    // GIVEN two trees in which serde has different features
    let tree = |features: &str| {
        BTreeMap::from([
            (
                "serde v1.0.0".to_owned(),
                BTreeSet::from([features.to_owned()]),
            ),
            ("tokio v1.0.0".to_owned(), BTreeSet::from(["rt".to_owned()])),
        ])
    };
    let trees = [tree("derive,std"), tree("alloc,derive,std")];
    // WHEN the packages that differ are found
    let found = differing(&trees);
    // THEN serde is one, and tokio, alike in both, is not
    assert_eq!(found, BTreeSet::from(["serde".to_owned()]));
}
