//! The built-in carts: the data file `shared/carts.toml`, `[[carts]]` entries of the same schema
//! as an operator's own carts ([`CartEntry`]). The binaries carry each entry as JSON beside its
//! id (`build.rs` converts them) and read an entry on its first use: a Lambda function reads
//! only the carts it serves, not the whole catalog at every start. The tests read the TOML
//! itself, and read every carried entry, holding the two to the same catalog. The JSON leaves
//! out what only readers read (each entry's sources, unverified facts and notes; every nested
//! `source` says [`SEE_DATA_FILE`]), so the tests' catalog, read from the TOML, has them and the
//! binaries' does not.

use std::sync::{LazyLock, OnceLock};

use serde::Deserialize;

use super::{CartEntry, CartId, CartSpec, CredentialTerms, Need, TokenAuth, TokenRequest};

/// The data file as written.
#[cfg(test)]
const DATA: &str = include_str!("../../carts.toml");

/// The data file as the binaries carry it: each entry's id, its JSON, and the JSON of its keys
/// that say what an app's credentials must hold there (`build.rs`).
const CARRIED: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/carts.rs"));

#[cfg(test)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    carts: Vec<CartEntry>,
}

/// Reads the data file as written (TOML): every entry, checked, none listed twice.
#[cfg(test)]
fn read(text: &str) -> Result<Vec<CartSpec>, String> {
    let file: DataFile =
        toml::from_str(text).map_err(|e| format!("shared/carts.toml: {}", e.message()))?;
    let mut carts: Vec<CartSpec> = Vec::with_capacity(file.carts.len());
    for entry in file.carts {
        let spec = checked(entry)?;
        if carts.iter().any(|c| c.id == spec.id) {
            return Err(format!("cart {}: listed twice", spec.id));
        }
        carts.push(spec);
    }
    Ok(carts)
}

/// Reads one entry as the binaries carry it (JSON).
fn read_carried(json: &str) -> Result<CartSpec, String> {
    // Its patterns compile on first use: the tests read the TOML, which compiles every one.
    let entry: CartEntry = super::pattern::read_with_compile_on_use(|| serde_json::from_str(json))
        .map_err(|e| format!("shared/carts.toml (as JSON): {e}"))?;
    checked(entry)
}

/// An entry's keys that say what an app's credentials must hold at the cart, as carried: what
/// [`CartEntry`] reads from them, and left out as there.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CarriedTerms {
    token_auth: Option<TokenAuth>,
    token_request: Option<TokenRequest>,
    #[serde(default)]
    needs: Vec<Need>,
}

/// Reads an entry's terms as the binaries carry them (JSON).
fn read_terms(json: &str) -> Result<CredentialTerms, String> {
    let terms: CarriedTerms =
        super::pattern::read_with_compile_on_use(|| serde_json::from_str(json))
            .map_err(|e| format!("shared/carts.toml (terms as JSON): {e}"))?;
    Ok(CredentialTerms::new(
        terms.token_auth.unwrap_or_default(),
        &terms.token_request.unwrap_or_default(),
        terms.needs,
    ))
}

/// An entry checked as an operator's would be (anchored patterns that compile, known hooks,
/// hosts), carrying no credentials of its own.
fn checked(entry: CartEntry) -> Result<CartSpec, String> {
    let (spec, credentials) = entry.into_spec(false)?;
    if !credentials.is_empty() {
        return Err(format!(
            "cart {}: a built-in cart's credentials come from [cart_credentials.{}]",
            spec.id, spec.id
        ));
    }
    Ok(spec)
}

/// What every nested `source` of the binaries' catalog says (`build.rs` writes it).
pub const SEE_DATA_FILE: &str = "shared/carts.toml";

/// One built-in cart: its id and its credential terms, known without reading its entry, and its
/// entry, read on first use.
#[derive(Debug)]
pub struct Builtin {
    id: &'static str,
    json: &'static str,
    terms: &'static str,
    spec: OnceLock<CartSpec>,
}

impl Builtin {
    /// The cart's id.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// What an app's credentials must hold at the cart, read without reading its entry.
    pub fn terms(&self) -> CredentialTerms {
        if self.terms.is_empty() {
            // The tests' catalog, read from the TOML, has no carried terms.
            return self.spec().credential_terms();
        }
        // As `spec` below: the shared tests read every carried entry's terms
        // (`every_carried_entrys_terms_are_its_entrys`).
        read_terms(self.terms).unwrap_or_else(|e| panic!("built-in cart {}: {e}", self.id))
    }

    /// The cart's entry, read on the first call.
    pub fn spec(&self) -> &CartSpec {
        self.spec.get_or_init(|| {
            // Not a configuration error anyone could meet: the shared tests read every carried
            // entry (`every_carried_entry_reads_as_written`), so one that does not read cannot
            // be built into a binary that passed them.
            read_carried(self.json).unwrap_or_else(|e| panic!("built-in cart {}: {e}", self.id))
        })
    }
}

#[cfg(not(test))]
static BUILTIN: LazyLock<Vec<Builtin>> = LazyLock::new(|| {
    CARRIED
        .iter()
        .map(|&(id, json, terms)| Builtin {
            id,
            json,
            terms,
            spec: OnceLock::new(),
        })
        .collect()
});
/// The tests read the catalog as written, its documentation included.
#[cfg(test)]
static BUILTIN: LazyLock<Vec<Builtin>> = LazyLock::new(|| {
    read(DATA)
        .expect("shared/carts.toml reads")
        .into_iter()
        .map(|spec| Builtin {
            id: CARRIED
                .iter()
                .find(|(id, _, _)| *id == spec.id.as_str())
                .map(|(id, _, _)| *id)
                .expect("every entry is carried"),
            json: "",
            terms: "",
            spec: OnceLock::from(spec),
        })
        .collect()
});

/// Every built-in cart, in the order the warehouse API lists them, none read yet.
pub fn entries() -> &'static [Builtin] {
    &BUILTIN
}

/// The built-in cart `id`, not read yet.
pub fn find(id: &CartId) -> Option<&'static Builtin> {
    entries().iter().find(|b| b.id == id.as_str())
}

/// Every built-in cart, read.
pub fn all() -> Vec<&'static CartSpec> {
    entries().iter().map(Builtin::spec).collect()
}

/// A copy of the built-in cart `id`.
pub fn get(id: &str) -> Option<CartSpec> {
    find(&CartId::parse(id)?).map(|b| b.spec().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_reads() {
        // GIVEN the data file compiled in THEN it reads, twenty-two carts
        assert_eq!(read(DATA).map(|c| c.len()), Ok(22));
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

    /// Every entry as the binaries carry it, read.
    fn carried() -> Vec<CartSpec> {
        CARRIED
            .iter()
            .map(|(id, json, _)| read_carried(json).unwrap_or_else(|e| panic!("{id}: {e}")))
            .collect()
    }

    #[test]
    fn every_carried_entry_reads_as_written() {
        // GIVEN the data file as written and as the binaries carry it
        let written = read(DATA).expect("carts.toml reads");
        let carried = carried();
        // THEN both give the same catalog, entry for entry, in order, documentation aside
        assert_eq!(written.len(), carried.len());
        for ((w, c), (id, _, _)) in written.iter().zip(&carried).zip(CARRIED) {
            assert_eq!(undocumented(w), format!("{c:?}"), "{}", w.id);
            assert_eq!(w.id.as_str(), *id);
        }
    }

    #[test]
    fn every_carried_entrys_terms_are_its_entrys() {
        // GIVEN every entry as the binaries carry it, and its terms as carried beside it
        let carried = carried();
        // THEN the terms read alone are the ones its entry gives, entry for entry
        for (spec, (id, _, terms)) in carried.iter().zip(CARRIED) {
            assert_eq!(read_terms(terms), Ok(spec.credential_terms()), "{id}");
        }
        // AND the catalog has carts with and without a secret, and with fields beyond the id
        let terms: Vec<_> = carried.iter().map(CartSpec::credential_terms).collect();
        assert!(terms.iter().any(|t| t.client_secret) && terms.iter().any(|t| !t.client_secret));
        assert!(terms.iter().any(|t| !t.needs.is_empty()));
    }

    #[test]
    fn terms_that_are_not_the_schema_are_refused_with_the_reason() {
        // GIVEN carried terms with a key the entry does not have
        let text = r#"{"token_auth":"body","needz":["ru_name"]}"#;
        // THEN they do not read, and name the key
        assert!(read_terms(text).unwrap_err().contains("needz"));
    }

    #[test]
    fn the_binaries_carry_no_sources_and_no_notes() {
        // GIVEN the catalog as the binaries carry it
        let carried = carried();
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
        // GIVEN a carried entry that lacks its name
        let text = r#"{"id":"acme","authorize_url":"https://a.test/a","token_url":"https://a.test/t","scopes":{"orders":["o"]}}"#;
        // THEN it does not read, and says what is missing
        assert!(read_carried(text).unwrap_err().contains("name"));
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
