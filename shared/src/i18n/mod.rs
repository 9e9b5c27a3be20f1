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

/// The catalog of a language, read once, when a page or email in it is first written (a
/// function's first page reads one or two languages, not five). A catalog that does not parse
/// is a build mistake the catalog test catches; at run time it reads as empty (English then
/// answers).
pub fn catalog(locale: Locale) -> &'static Catalog {
    static CATALOGS: [OnceLock<Catalog>; SOURCES.len()] =
        [const { OnceLock::new() }; SOURCES.len()];
    let at = SOURCES
        .iter()
        .position(|(l, _)| *l == locale)
        .expect("every locale has a catalog");
    CATALOGS[at].get_or_init(|| parse(SOURCES[at].1).unwrap_or_default())
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

/// A piece of a message as read once for filling in ([`compiled`]).
#[derive(Clone, Copy, Debug)]
pub enum Compiled {
    /// Words as written.
    Words(&'static str),
    /// A placeholder's name.
    Placeholder(&'static str),
}

/// One language's messages read into their pieces, by key.
type Index = HashMap<&'static str, Box<[Compiled]>>;

/// A language's messages as pieces: built once per language from its catalog, so a page (which
/// asks for dozens of messages) finds each by hash and never scans a message for its
/// placeholders again.
fn index(locale: Locale) -> &'static Index {
    static INDEXES: [OnceLock<Index>; SOURCES.len()] = [const { OnceLock::new() }; SOURCES.len()];
    let at = SOURCES
        .iter()
        .position(|(l, _)| *l == locale)
        .expect("every locale has a catalog");
    INDEXES[at].get_or_init(|| {
        catalog(locale)
            .iter()
            .map(|(key, message)| {
                let pieces = pieces(message)
                    .map(|piece| match piece {
                        Piece::Words(text) => Compiled::Words(text),
                        Piece::Placeholder(name) => Compiled::Placeholder(name),
                    })
                    .collect();
                (key.as_str(), pieces)
            })
            .collect()
    })
}

/// The message `key` in `locale` as its pieces (English's where the language lacks it; none
/// for a key no catalog has).
pub fn compiled(locale: Locale, key: &str) -> &'static [Compiled] {
    index(locale)
        .get(key)
        .or_else(|| index(Locale::En).get(key))
        .map_or(&[], |pieces| pieces)
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
    compiled(locale, key)
        .iter()
        .map(|piece| match *piece {
            Compiled::Words(text) => Part::Text(text.to_owned()),
            Compiled::Placeholder(name) => match args.iter().find(|(n, _)| *n == name) {
                Some((_, Arg::Text(v))) => Part::Text((*v).to_owned()),
                Some((_, Arg::Strong(v))) => Part::Strong((*v).to_owned()),
                None => Part::Text(format!("{{{name}}}")),
            },
        })
        .collect()
}

/// The message `key` in `locale` as text, its placeholders filled in from `args` (written into
/// one string: pages ask for dozens of messages each).
pub fn text(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let message = compiled(locale, key);
    let mut out = String::with_capacity(128);
    for piece in message {
        match *piece {
            Compiled::Words(text) => out.push_str(text),
            Compiled::Placeholder(name) => match args.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => out.push_str(value),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
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
