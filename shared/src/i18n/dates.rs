//! Dates and times as each language writes them, always in UTC (said so, as every page and
//! email has said): `29 November 2026, 10:00 UTC`, `29. November 2026, 10:00 UTC`,
//! `29 novembre 2026 à 10:00 UTC`, `29 de noviembre de 2026, 10:00 UTC`,
//! `2026年11月29日 10:00 UTC`.

use time::OffsetDateTime;

use crate::domain::{Locale, Timestamp};

const EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// A moment as people read it in `locale`, in UTC.
pub fn date(locale: Locale, at: Timestamp) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(at.0) else {
        return at.rfc3339();
    };
    let (day, year) = (t.day(), t.year());
    let month = usize::from(u8::from(t.month())) - 1;
    let hm = format!("{:02}:{:02}", t.hour(), t.minute());
    match locale {
        Locale::En => format!("{day} {} {year}, {hm} UTC", EN[month]),
        Locale::De => format!("{day}. {} {year}, {hm} UTC", DE[month]),
        Locale::Fr => {
            let day = if day == 1 {
                "1er".to_owned()
            } else {
                day.to_string()
            };
            format!("{day} {} {year} à {hm} UTC", FR[month])
        }
        Locale::Es => format!("{day} de {} de {year}, {hm} UTC", ES[month]),
        Locale::Ja => format!("{year}年{}月{day}日 {hm} UTC", month + 1),
    }
}
