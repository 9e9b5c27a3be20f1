//! Turns the built-in catalog (`carts.toml`, the schema operators write their own carts in)
//! into what the binaries carry: each entry as JSON, beside its id. Every process used to read
//! the whole catalog at start, and that was half of a Lambda function's instructions before its
//! first request (docs/benchmarks.md); now an entry is read on its first use, and a function
//! reads only the carts it serves. `serde_json` reads an entry in a fraction of TOML's time.
//! The tests still read `carts.toml` itself (`carts::builtin`), so an entry that does not read
//! is reported with its TOML line, and they read every carried entry too.
//!
//! The JSON leaves out what is there for readers, not for the program: each entry's `sources`,
//! `unverified` and `notes`, and every nested `source` becomes [`SEE_DATA_FILE`] (the reader's
//! check that a fact names its source still holds). They were two thirds of the catalog's text,
//! and so of what every process parsed and copied. The tests hold the two readings to the same
//! catalog, documentation aside.

fn main() {
    println!("cargo:rerun-if-changed=carts.toml");
    let text = std::fs::read_to_string("carts.toml").expect("shared/carts.toml is readable");
    // A file that does not parse fails here, at build time, with TOML's own message.
    let data: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("shared/carts.toml does not parse: {e}"));
    let mut data = data;
    if let Some(toml::Value::Array(carts)) = data.get_mut("carts") {
        for cart in carts.iter_mut().filter_map(toml::Value::as_table_mut) {
            for key in DOCUMENTATION {
                cart.remove(key);
            }
            for (_, value) in cart.iter_mut() {
                point_sources_at_the_data_file(value);
            }
        }
    }
    let Some(toml::Value::Array(carts)) = data.get("carts") else {
        panic!("shared/carts.toml has no [[carts]]");
    };
    // `&[(id, json, terms), …]`: a Rust expression, `include!`d by `carts::builtin`. Debug of a
    // str is a valid Rust string literal. `terms` is the entry's keys that say what an app's
    // credentials must hold there, copied as they are: a configuration that gives a cart
    // credentials is checked against them at start without reading the whole entry.
    let mut ids = std::collections::BTreeSet::new();
    let mut out = String::from("&[\n");
    for cart in carts {
        let id = cart
            .get("id")
            .and_then(toml::Value::as_str)
            .expect("every cart has a string id");
        assert!(
            ids.insert(id),
            "shared/carts.toml: cart {id} is listed twice"
        );
        let json = serde_json::to_string(cart).expect("TOML data is JSON data");
        let terms: toml::Table = TERMS
            .iter()
            .filter_map(|&key| Some((key.to_owned(), cart.get(key)?.clone())))
            .collect();
        let terms = serde_json::to_string(&terms).expect("TOML data is JSON data");
        out.push_str(&format!("    ({id:?}, {json:?}, {terms:?}),\n"));
    }
    out.push(']');
    let path = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("carts.rs");
    std::fs::write(path, out).expect("OUT_DIR is writable");
}

/// An entry's keys that say what an app's credentials must hold at the cart
/// (`carts::CredentialTerms`).
const TERMS: [&str; 3] = ["token_auth", "token_request", "needs"];

/// An entry's keys that only readers read.
const DOCUMENTATION: [&str; 3] = ["sources", "unverified", "notes"];

/// What a nested `source` says in the binaries (`carts::builtin::SEE_DATA_FILE`).
const SEE_DATA_FILE: &str = "shared/carts.toml";

fn point_sources_at_the_data_file(value: &mut toml::Value) {
    match value {
        toml::Value::Table(table) => {
            for (key, v) in table.iter_mut() {
                if key == "source" && v.is_str() {
                    *v = toml::Value::String(SEE_DATA_FILE.to_owned());
                } else {
                    point_sources_at_the_data_file(v);
                }
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(point_sources_at_the_data_file),
        _ => {}
    }
}
