//! The built-in carts: the data file `shared/carts.toml`, `[[carts]]` entries of the same schema
//! as an operator's own carts ([`CartEntry`]), read once, on first use. The binaries carry it
//! as JSON (`build.rs` converts it), which reads in a fraction of TOML's time at every start;
//! the tests read the TOML itself and hold the two to the same catalog. The JSON leaves out
//! what only readers read (each entry's sources, unverified facts and notes; every nested
//! `source` says [`SEE_DATA_FILE`]), so the tests' catalog, read from the TOML, has them and the
//! binaries' does not.

use std::sync::LazyLock;

use serde::Deserialize;

use super::{CartEntry, CartId, CartSpec};

/// The data file as written.
#[cfg(test)]
const DATA: &str = include_str!("../../carts.toml");

/// The data file as JSON (`build.rs`), compiled into every binary.
const DATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/carts.json"));

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    carts: Vec<CartEntry>,
}

/// Reads the data file as written (TOML).
#[cfg(test)]
fn read(text: &str) -> Result<Vec<CartSpec>, String> {
    let file: DataFile =
        toml::from_str(text).map_err(|e| format!("shared/carts.toml: {}", e.message()))?;
    checked(file)
}

/// Reads the data file as the binaries carry it (JSON).
fn read_json(text: &str) -> Result<Vec<CartSpec>, String> {
    // Its patterns compile on first use: the tests read the TOML, which compiles every one.
    let file: DataFile = super::pattern::read_with_compile_on_use(|| serde_json::from_str(text))
        .map_err(|e| format!("shared/carts.toml (as JSON): {e}"))?;
    checked(file)
}

/// Every entry checked as an operator's would be (anchored patterns that compile, known hooks,
/// hosts), none carrying credentials of its own.
fn checked(file: DataFile) -> Result<Vec<CartSpec>, String> {
    let mut carts: Vec<CartSpec> = Vec::with_capacity(file.carts.len());
    for entry in file.carts {
        let (spec, credentials) = entry.into_spec(false)?;
        if !credentials.is_empty() {
            return Err(format!(
                "cart {}: a built-in cart's credentials come from [cart_credentials.{}]",
                spec.id, spec.id
            ));
        }
        if carts.iter().any(|c| c.id == spec.id) {
            return Err(format!("cart {}: listed twice", spec.id));
        }
        carts.push(spec);
    }
    Ok(carts)
}

/// What every nested `source` of the binaries' catalog says (`build.rs` writes it).
pub const SEE_DATA_FILE: &str = "shared/carts.toml";

#[cfg(not(test))]
static CATALOG: LazyLock<Result<Vec<CartSpec>, String>> = LazyLock::new(|| read_json(DATA_JSON));
/// The tests read the catalog as written, its documentation included.
#[cfg(test)]
static CATALOG: LazyLock<Result<Vec<CartSpec>, String>> = LazyLock::new(|| read(DATA));

/// The built-in carts, or why the data file does not read. Configuration loading asks this, so
/// a broken data file stops every process at start with the reason.
pub fn catalog() -> Result<&'static [CartSpec], String> {
    CATALOG.as_deref().map_err(Clone::clone)
}

/// Every built-in cart, in the order the warehouse API lists them (none if the data file does
/// not read, which [`catalog`] has already refused at start).
pub fn all() -> &'static [CartSpec] {
    catalog().unwrap_or_default()
}

/// The built-in cart `id`.
pub fn get(id: &str) -> Option<CartSpec> {
    let id = CartId::parse(id)?;
    all().iter().find(|c| c.id == id).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_reads() {
        // GIVEN the data file compiled in THEN it reads, twenty-two carts
        assert_eq!(catalog().map(<[CartSpec]>::len), Ok(22));
    }

    /// `spec` as the binaries carry it: its documentation left out (`build.rs`).
    fn undocumented(spec: &CartSpec) -> String {
        let mut spec = spec.clone();
        spec.sources.clear();
        spec.unverified.clear();
        spec.notes.clear();
        // Every nested `source` is a string field named `source` in the Debug text.
        let text = format!("{spec:?}");
        let source = regex_lite::Regex::new(r#"source: "(?:[^"\\]|\\.)*""#).unwrap();
        source
            .replace_all(&text, format!("source: {SEE_DATA_FILE:?}").as_str())
            .into_owned()
    }

    #[test]
    fn the_binaries_json_is_the_catalog_as_written_less_its_documentation() {
        // GIVEN the data file as written and as the binaries carry it
        let written = read(DATA).expect("carts.toml reads");
        let carried = read_json(DATA_JSON).expect("carts.json reads");
        // THEN both give the same catalog, entry for entry, documentation aside
        assert_eq!(written.len(), carried.len());
        for (w, c) in written.iter().zip(&carried) {
            assert_eq!(undocumented(w), format!("{c:?}"), "{}", w.id);
        }
    }

    #[test]
    fn the_binaries_carry_no_sources_and_no_notes() {
        // GIVEN the catalog as the binaries carry it
        let carried = read_json(DATA_JSON).expect("carts.json reads");
        // THEN no entry carries its sources, unverified facts or notes
        assert!(carried
            .iter()
            .all(|c| c.sources.is_empty() && c.unverified.is_empty() && c.notes.is_empty()));
        // AND not one entry's first source is in its text
        let text = format!("{carried:?}");
        let written = read(DATA).expect("carts.toml reads");
        assert!(written.iter().all(|w| !text.contains(&w.sources[0])));
    }

    #[test]
    fn json_that_is_not_the_schema_is_refused_with_the_reason() {
        // GIVEN a JSON catalog whose entry lacks its name
        let text = r#"{"carts":[{"id":"acme","authorize_url":"https://a.test/a","token_url":"https://a.test/t","scopes":{"orders":["o"]}}]}"#;
        // THEN it does not read, and says what is missing
        assert!(read_json(text).unwrap_err().contains("name"));
    }

    #[test]
    fn an_entry_with_its_own_credentials_is_refused() {
        // GIVEN a data file whose entry carries a client id
        let text = r#"
            [[carts]]
            id = "acme"
            name = "Acme"
            authorize_url = "https://auth.acme.test/a"
            token_url = "https://auth.acme.test/t"
            client_id = "app"
            [carts.scopes]
            orders = ["o"]
        "#;
        // THEN it does not read
        assert!(read(text).unwrap_err().contains("cart_credentials.acme"));
    }

    #[test]
    fn a_callback_without_a_code_must_name_the_account() {
        // GIVEN an entry whose callback carries no code and names no account
        let text = r#"
            [[carts]]
            id = "acme"
            name = "Acme"
            authorize_url = "https://auth.acme.test/a"
            token_url = "https://auth.acme.test/t"
            [carts.scopes]
            orders = ["o"]
            [carts.callback]
            without_code = true
        "#;
        // THEN it does not read: its exchange would be for nobody in particular
        assert!(read(text).unwrap_err().contains("must name the account"));
    }

    #[test]
    fn an_entry_listed_twice_is_refused() {
        let one = r#"
            [[carts]]
            id = "acme"
            name = "Acme"
            authorize_url = "https://auth.acme.test/a"
            token_url = "https://auth.acme.test/t"
            [carts.scopes]
            orders = ["o"]
        "#;
        assert!(read(&one.repeat(2)).unwrap_err().contains("twice"));
    }

    #[test]
    fn an_entry_naming_an_unknown_hook_or_an_unanchored_pattern_is_refused() {
        let base = r#"
            [[carts]]
            id = "acme"
            name = "Acme"
            authorize_url = "https://auth.acme.test/a"
            token_url = "https://auth.acme.test/t"
        "#;
        let hook = format!("{base}checks = [\"acme_magic\"]\n[carts.scopes]\norders = [\"o\"]\n");
        assert!(read(&hook).unwrap_err().contains("acme_magic"));
        let loose =
            format!("{base}hosts = ['auth\\.acme\\.test']\n[carts.scopes]\norders = [\"o\"]\n");
        assert!(read(&loose).unwrap_err().contains("anchored"));
    }

    #[test]
    fn every_entry_says_whether_its_cart_documents_a_revocation_call() {
        // GIVEN the built-in catalog
        // THEN each entry names a revocation endpoint with its source, or says in its notes
        // why a disconnect makes no call
        for cart in all() {
            let said = match &cart.revocation {
                Some(r) => !r.source.trim().is_empty(),
                None => cart.notes.iter().any(|n| n.starts_with("Revocation:")),
            };
            assert!(said, "{} says nothing of revocation", cart.id);
        }
    }

    #[test]
    fn a_revocation_endpoint_needs_a_valid_url_and_a_source() {
        // GIVEN an entry whose revocation endpoint is named with a source, without one, and
        // with a URL that is not https
        let entry = |revocation: &str| {
            format!(
                "[[carts]]\nid = \"acme\"\nname = \"Acme\"\n\
                 authorize_url = \"https://auth.acme.test/a\"\ntoken_url = \"https://auth.acme.test/t\"\n\
                 revocation = {revocation}\n[carts.scopes]\norders = [\"o\"]\n"
            )
        };
        let good = read(&entry(
            r#"{ url = "https://auth.acme.test/r", source = "RFC 7009 docs" }"#,
        ));
        // THEN the first is read with its endpoint, the others refused
        assert_eq!(
            good.unwrap()[0].revocation.as_ref().map(|r| r.url.as_str()),
            Some("https://auth.acme.test/r")
        );
        let unsourced = read(&entry(
            r#"{ url = "https://auth.acme.test/r", source = " " }"#,
        ));
        assert!(unsourced.unwrap_err().contains("revocation.source"));
        let plain = read(&entry(
            r#"{ url = "http://auth.acme.test/r", source = "docs" }"#,
        ));
        assert!(plain.unwrap_err().contains("revocation.url"));
    }
}
