//! Which language a merchant's page is in: the switcher's choice (`?lang=de`, then remembered
//! in a cookie), else the browser's `Accept-Language`, else English.

use cookie::{Cookie, SameSite};
use http::HeaderValue;

use super::{Request, Response};
use crate::domain::Locale;

/// The cookie that remembers the switcher's choice (not secret: a language tag).
pub const LANG_COOKIE: &str = "cartlink-lang";
/// How long the choice is remembered: a year.
const REMEMBER_SECS: i64 = 365 * 24 * 3600;

/// The page's language, and whether the request chose it with `?lang=` (then
/// [`remember`] keeps the choice for the next pages).
pub fn page_locale(req: &Request) -> (Locale, bool) {
    if let Some(chosen) = req
        .query_params()
        .get("lang")
        .and_then(|l| Locale::parse(l))
    {
        return (chosen, true);
    }
    let locale = req
        .cookie(LANG_COOKIE)
        .and_then(|l| Locale::parse(&l))
        .or_else(|| {
            req.header("accept-language")
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default();
    (locale, false)
}

/// Adds the cookie that remembers `locale` (`Secure` unless on local plain http).
pub fn remember(resp: &mut Response, locale: Locale, secure: bool) {
    let cookie = Cookie::build((LANG_COOKIE, locale.as_str()))
        .path("/")
        .max_age(time::Duration::seconds(REMEMBER_SECS))
        .same_site(SameSite::Lax)
        .secure(secure)
        .build();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        resp.headers_mut().append(http::header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    fn with(path: &str, headers: &[(&'static str, &str)]) -> Request {
        let mut req = Request::new(Method::GET, path);
        for (k, v) in headers {
            req.headers.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        req
    }

    #[test]
    fn the_switcher_beats_the_cookie_which_beats_accept_language() {
        let al = ("accept-language", "fr-CA,fr;q=0.9");
        let cookie = ("cookie", "cartlink-lang=ja");
        assert_eq!(page_locale(&with("/x", &[al])), (Locale::Fr, false));
        assert_eq!(page_locale(&with("/x", &[al, cookie])), (Locale::Ja, false));
        assert_eq!(
            page_locale(&with("/x?lang=de", &[al, cookie])),
            (Locale::De, true)
        );
        assert_eq!(page_locale(&with("/x?lang=xx", &[])), (Locale::En, false));
    }
}
