//! What a merchant reads, in their language: one catalog per language (`en.toml`, `de.toml`,
//! `fr.toml`, `es.toml`, `ja.toml`), each message a whole sentence with named placeholders
//! (`{warehouse}`), so every language orders its own words; and dates in each language's own
//! format (`dates.rs`).
//!
//! A message is filled in as text ([`text`]) or as [`Part`]s, where the caller marks which
//! values stand out ([`Arg::Strong`]): pages and emails render the parts, never joining
//! fragments of sentences. A key a catalog lacks falls back to English (the catalog test
//! holds every catalog to every key).

mod dates;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

pub use crate::domain::Locale;
pub use dates::date;

const SOURCES: [(Locale, &str); 5] = [
    (Locale::En, include_str!("en.toml")),
    (Locale::De, include_str!("de.toml")),
    (Locale::Fr, include_str!("fr.toml")),
    (Locale::Es, include_str!("es.toml")),
    (Locale::Ja, include_str!("ja.toml")),
];

/// One language's messages by key.
pub type Catalog = BTreeMap<String, String>;

/// One value per language, each made the first time it is asked for (a function's first page
/// reads one or two languages, not five).
pub struct PerLocale<T>([OnceLock<T>; Locale::ALL.len()]);

impl<T> PerLocale<T> {
    /// Nothing made yet.
    pub const fn new() -> Self {
        PerLocale([const { OnceLock::new() }; Locale::ALL.len()])
    }

    /// The value of `locale`, made by `make` if it is the first ask.
    pub fn get_or_init(&self, locale: Locale, make: impl FnOnce() -> T) -> &T {
        let at = Locale::ALL
            .iter()
            .position(|l| *l == locale)
            .expect("every locale is in Locale::ALL");
        self.0[at].get_or_init(make)
    }
}

impl<T> Default for PerLocale<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The catalog of a language, read once, when a page or email in it is first written. A
/// catalog that does not parse is a build mistake the catalog test catches; at run time it
/// reads as empty (English then answers).
pub fn catalog(locale: Locale) -> &'static Catalog {
    static CATALOGS: PerLocale<Catalog> = PerLocale::new();
    CATALOGS.get_or_init(locale, || {
        let (_, source) = SOURCES
            .iter()
            .find(|(l, _)| *l == locale)
            .expect("every locale has a catalog");
        parse(source).unwrap_or_default()
    })
}

/// Reads a catalog's TOML: flat `"key" = "message"` pairs.
pub fn parse(source: &str) -> Result<Catalog, String> {
    let table: toml::Table = toml::from_str(source).map_err(|e| e.to_string())?;
    table
        .into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) => Ok((k, s)),
            other => Err(format!("{k} is not a string but {}", other.type_str())),
        })
        .collect()
}

/// A piece of a message as written: words, or a placeholder's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece<'m> {
    Words(&'m str),
    Placeholder(&'m str),
}

/// The pieces of `message` in order; an unclosed `{` is words. The one reading of the
/// placeholder syntax: [`placeholders`], [`parts`] and [`text`] all go through it.
fn pieces(message: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = message;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let placeholder = rest
            .find('{')
            .and_then(|open| rest[open..].find('}').map(|c| (open, open + c)));
        let piece = match placeholder {
            Some((0, close)) => {
                let name = &rest[1..close];
                rest = &rest[close + 1..];
                Piece::Placeholder(name)
            }
            Some((open, _)) => {
                let words = &rest[..open];
                rest = &rest[open..];
                Piece::Words(words)
            }
            None => Piece::Words(std::mem::take(&mut rest)),
        };
        Some(piece)
    })
}

/// The placeholders a message names, in order (`{warehouse}` gives `warehouse`).
pub fn placeholders(message: &str) -> Vec<&str> {
    pieces(message)
        .filter_map(|p| match p {
            Piece::Placeholder(name) => Some(name),
            Piece::Words(_) => None,
        })
        .collect()
}

/// One language's messages read into their pieces, by key.
type Index = HashMap<&'static str, Box<[Piece<'static>]>>;

/// A language's messages as pieces: built once per language from its catalog, so a page (which
/// asks for dozens of messages) finds each by hash and never scans a message for its
/// placeholders again.
fn index(locale: Locale) -> &'static Index {
    static INDEXES: PerLocale<Index> = PerLocale::new();
    INDEXES.get_or_init(locale, || {
        catalog(locale)
            .iter()
            .map(|(key, message)| (key.as_str(), pieces(message).collect()))
            .collect()
    })
}

/// The message `key` in `locale` as its pieces (English's where the language lacks it; none
/// for a key no catalog has).
fn compiled(locale: Locale, key: &str) -> &'static [Piece<'static>] {
    index(locale)
        .get(key)
        .or_else(|| index(Locale::En).get(key))
        .map_or(&[], |pieces| pieces)
}

/// A piece of a message filled in ([`fill`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filled<V> {
    /// The message's own words.
    Words(&'static str),
    /// The value given for a placeholder.
    Value(V),
    /// A placeholder no value was given for (its name): written as it stands, `{name}`.
    Unfilled(&'static str),
}

/// The message `key` in `locale` piece by piece, each placeholder filled from `args` (by
/// name). The one reading of how values fill a message: [`text`], [`parts`] and the pages'
/// markup all go through it.
pub fn fill<'a, V: Copy>(
    locale: Locale,
    key: &str,
    args: &'a [(&'a str, V)],
) -> impl Iterator<Item = Filled<V>> + 'a {
    compiled(locale, key).iter().map(move |piece| match *piece {
        Piece::Words(words) => Filled::Words(words),
        Piece::Placeholder(name) => args
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Filled::Unfilled(name), |(_, v)| Filled::Value(*v)),
    })
}

/// A value for a placeholder, and how it is shown.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// As plain words.
    Text(&'a str),
    /// Standing out (a name, a date).
    Strong(&'a str),
}

/// A piece of a filled-in message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Plain words.
    Text(String),
    /// Words that stand out.
    Strong(String),
}

/// The message `key` in `locale`, its placeholders filled in from `args`, as parts. A
/// placeholder without a value stays as written.
pub fn parts(locale: Locale, key: &str, args: &[(&str, Arg<'_>)]) -> Vec<Part> {
    fill(locale, key, args)
        .map(|piece| match piece {
            Filled::Words(words) => Part::Text(words.to_owned()),
            Filled::Value(Arg::Text(v)) => Part::Text(v.to_owned()),
            Filled::Value(Arg::Strong(v)) => Part::Strong(v.to_owned()),
            Filled::Unfilled(name) => Part::Text(format!("{{{name}}}")),
        })
        .collect()
}

/// The message `key` in `locale` as text, its placeholders filled in from `args` (written into
/// one string: pages ask for dozens of messages each).
pub fn text(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(128);
    for piece in fill(locale, key, args) {
        match piece {
            Filled::Words(words) | Filled::Value(words) => out.push_str(words),
            Filled::Unfilled(name) => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
    }
    out
}

/// What granting a function means, in the merchant's words and language.
pub fn function_words(locale: Locale, function: crate::domain::Function) -> String {
    text(locale, &format!("function.{}", function.as_str()), &[])
}

#[cfg(test)]
mod tests;
