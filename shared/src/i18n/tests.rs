use std::collections::BTreeSet;

use super::*;
use crate::domain::Timestamp;

#[test]
fn every_catalog_parses_and_holds_every_key_of_every_other() {
    // GIVEN the five catalogs as written
    let parsed: Vec<(Locale, Catalog)> = SOURCES
        .iter()
        .map(|(l, src)| {
            (
                *l,
                parse(src).unwrap_or_else(|e| panic!("{}: {e}", l.as_str())),
            )
        })
        .collect();
    let english: BTreeSet<&String> = parsed[0].1.keys().collect();
    // THEN each has exactly English's keys, none of them empty
    for (locale, catalog) in &parsed {
        let keys: BTreeSet<&String> = catalog.keys().collect();
        let missing: Vec<_> = english.difference(&keys).collect();
        let extra: Vec<_> = keys.difference(&english).collect();
        assert!(missing.is_empty(), "{} lacks {missing:?}", locale.as_str());
        assert!(
            extra.is_empty(),
            "{} has keys English lacks: {extra:?}",
            locale.as_str()
        );
        for (key, message) in catalog.iter() {
            assert!(
                !message.trim().is_empty(),
                "{}: {key} is empty",
                locale.as_str()
            );
        }
    }
}

#[test]
fn every_placeholder_survives_in_every_language() {
    // GIVEN each English message and its placeholders
    for (key, english) in catalog(Locale::En) {
        let mut expected = placeholders(english);
        expected.sort_unstable();
        for locale in Locale::ALL {
            // THEN each language's message names the same placeholders, each as often
            let mut found = placeholders(&catalog(locale)[key]);
            found.sort_unstable();
            assert_eq!(found, expected, "{}: {key}", locale.as_str());
        }
    }
}

#[test]
fn a_message_is_filled_in_whole_with_its_values_marked() {
    // GIVEN a message whose placeholders come in another order in Japanese
    let args = [
        ("warehouse", Arg::Strong("Acme")),
        ("cart", Arg::Text("Shopify")),
    ];
    // WHEN it is filled in
    let en = parts(Locale::En, "grant.title", &args);
    let ja = parts(Locale::Ja, "grant.title", &args);
    // THEN each language keeps its order, and the values keep their marks
    assert_eq!(
        en,
        vec![
            Part::Strong("Acme".into()),
            Part::Text(" asks for access to your ".into()),
            Part::Text("Shopify".into()),
            Part::Text(" store".into()),
        ]
    );
    assert_eq!(ja[0], Part::Strong("Acme".into()));
    assert_eq!(
        text(
            Locale::De,
            "grant.title",
            &[("warehouse", "Acme"), ("cart", "Shopify")]
        ),
        "Acme bittet um Zugriff auf Ihren Shopify-Shop"
    );
}

#[test]
fn dates_are_written_as_each_language_writes_them() {
    // GIVEN 1 December 2026, 09:05 UTC
    let at = Timestamp(1_796_115_900);
    // THEN each language writes it its own way
    assert_eq!(date(Locale::En, at), "1 December 2026, 09:05 UTC");
    assert_eq!(date(Locale::De, at), "1. Dezember 2026, 09:05 UTC");
    assert_eq!(date(Locale::Fr, at), "1er décembre 2026 à 09:05 UTC");
    assert_eq!(date(Locale::Es, at), "1 de diciembre de 2026, 09:05 UTC");
    assert_eq!(date(Locale::Ja, at), "2026年12月1日 09:05 UTC");
}

#[test]
fn a_message_reads_as_words_and_placeholders_whatever_its_braces() {
    // GIVEN messages with adjacent placeholders, an empty one and an unclosed brace
    let read = |m| pieces(m).collect::<Vec<_>>();
    // THEN each reads as written, and an unclosed brace is words
    assert_eq!(
        read("{a}{b} and {}"),
        vec![
            Piece::Placeholder("a"),
            Piece::Placeholder("b"),
            Piece::Words(" and "),
            Piece::Placeholder(""),
        ]
    );
    assert_eq!(read("x {open y"), vec![Piece::Words("x {open y")]);
    assert_eq!(read(""), Vec::<Piece<'_>>::new());
}

#[test]
fn text_and_parts_fill_in_the_same_words() {
    // GIVEN every message of every catalog, its placeholders given values (one left out)
    for (locale, _) in SOURCES {
        for (key, message) in catalog(locale) {
            let names = placeholders(message);
            let values: Vec<(&str, &str)> = names.iter().skip(1).map(|n| (*n, "«v»")).collect();
            let args: Vec<(&str, Arg<'_>)> =
                values.iter().map(|(n, v)| (*n, Arg::Strong(v))).collect();
            // WHEN it is filled in as text and as parts
            let joined: String = parts(locale, key, &args)
                .into_iter()
                .map(|p| match p {
                    Part::Text(s) | Part::Strong(s) => s,
                })
                .collect();
            // THEN both say the same, the value-less placeholder as written
            assert_eq!(text(locale, key, &values), joined, "{key} in {locale:?}");
        }
    }
}
