//! The languages a merchant reads cartlink in: pages choose by `Accept-Language` (or the
//! switcher), emails by the invite's `locale`.

use serde::{Deserialize, Serialize};

/// One of the five languages every page and merchant email is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    /// English (the default).
    #[default]
    #[serde(rename = "en")]
    En,
    /// German.
    #[serde(rename = "de")]
    De,
    /// French.
    #[serde(rename = "fr")]
    Fr,
    /// Spanish.
    #[serde(rename = "es")]
    Es,
    /// Japanese.
    #[serde(rename = "ja")]
    Ja,
}

impl Locale {
    /// Every language, in the switcher's order.
    pub const ALL: [Locale; 5] = [Locale::En, Locale::De, Locale::Fr, Locale::Es, Locale::Ja];

    /// The language tag (`de`), as in `lang` attributes, the API and the switcher.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Fr => "fr",
            Locale::Es => "es",
            Locale::Ja => "ja",
        }
    }

    /// The language's name in itself, as the switcher shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::De => "Deutsch",
            Locale::Fr => "Français",
            Locale::Es => "Español",
            Locale::Ja => "日本語",
        }
    }

    /// Reads a language tag: its primary subtag, any case (`de`, `de-AT`, `DE_de`).
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Locale::ALL.into_iter().find(|l| l.as_str() == primary)
    }

    /// The best of ours for an `Accept-Language` header: the highest `q` among the tags we
    /// speak (a tie goes to the earlier tag); `None` when it names none of ours.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(Locale, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(locale) = parts.next().and_then(Locale::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((locale, q));
            }
        }
        best.map(|(l, _)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_read_by_its_primary_subtag() {
        assert_eq!(Locale::parse("de-AT"), Some(Locale::De));
        assert_eq!(Locale::parse("JA"), Some(Locale::Ja));
        assert_eq!(Locale::parse("pt-BR"), None);
        assert_eq!(Locale::parse(""), None);
    }

    #[test]
    fn accept_language_picks_the_highest_q_we_speak() {
        // GIVEN headers as browsers send them
        // THEN the best language we speak wins, and a header of none of ours gives none
        assert_eq!(
            Locale::from_accept_language("pt-BR,pt;q=0.9,fr;q=0.8,de;q=0.7"),
            Some(Locale::Fr)
        );
        assert_eq!(
            Locale::from_accept_language("en;q=0.5, ja"),
            Some(Locale::Ja)
        );
        assert_eq!(
            Locale::from_accept_language("es;q=0, de;q=0.1"),
            Some(Locale::De)
        );
        assert_eq!(Locale::from_accept_language("pt, *;q=0.5"), None);
    }
}
