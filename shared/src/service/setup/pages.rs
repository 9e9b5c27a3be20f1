//! Grant pages kept while the store shows no commit ([`crate::store::ChangeWatch`]): a link
//! opened again, in the same language, is answered with the page rendered for it before,
//! without reading the store or rendering. Only a store that can tell every commit (the
//! embedded one, whose file every writer shares) lets pages be kept; on DynamoDB nothing is.
//!
//! A page is kept under the change mark taken before the reads it was rendered from, and only
//! while the invite has not expired ([`crate::domain::Invite::is_expired`]): any commit (a
//! withdrawal, a grant, a resend, an operator's edit of the file) moves the mark and drops
//! every page, and the clock passing the expiry drops the one page. What a page shows beyond
//! the store (the catalog, the configuration) does not change while the process runs.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::{GrantView, SetupError};
use crate::domain::{InviteToken, Locale, Timestamp, TokenHash};
use crate::service::Services;

/// At most this many pages are kept; past it, a page rendered is answered without being kept
/// (a page is 5–6 KB, so at most some 6 MB).
pub const KEPT_PAGES: usize = 1024;

/// A rendered grant page: the HTML and the origins its form may post to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedPage {
    /// The page's HTML.
    pub body: Bytes,
    /// The origins its form posts to (the page's `form-action`).
    pub form_targets: Arc<[String]>,
}

/// Which page: the link (by hash, as the store keeps it) and the language it is shown in.
pub type PageKey = (TokenHash, Locale);

/// The kept grant pages, all under one change mark.
#[derive(Default)]
pub struct GrantPages {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    mark: u64,
    pages: HashMap<PageKey, (RenderedPage, Timestamp)>,
}

impl Kept {
    /// Moves on to `mark` if it is newer, dropping every page kept under an older one; answers
    /// whether the pages now kept are `mark`'s.
    fn at(&mut self, mark: u64) -> bool {
        if mark > self.mark {
            self.mark = mark;
            self.pages.clear();
        }
        mark == self.mark
    }
}

impl GrantPages {
    /// The page kept for `key` under `mark`, if its invite has not expired at `now`.
    pub fn get(&self, key: &PageKey, mark: u64, now: Timestamp) -> Option<RenderedPage> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if !kept.at(mark) {
            return None;
        }
        match kept.pages.get(key) {
            Some((page, expires_at)) if now < *expires_at => Some(page.clone()),
            _ => None,
        }
    }

    /// Keeps `page`, rendered from reads made after `mark` was taken, until its invite expires
    /// at `expires_at`. A page from before the newest mark seen is not kept.
    pub fn keep(&self, key: PageKey, mark: u64, page: RenderedPage, expires_at: Timestamp) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.at(mark) && (kept.pages.len() < KEPT_PAGES || kept.pages.contains_key(&key)) {
            kept.pages.insert(key, (page, expires_at));
        }
    }

    /// How many pages are kept.
    pub fn len(&self) -> usize {
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pages
            .len()
    }

    /// Whether no page is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Services {
    /// The grant page a link opens for `client`, in `locale`: [`Services::open_link_for`]
    /// rendered by `render`, or the page rendered so before, if the store shows no commit
    /// since and the invite has not expired ([`GrantPages`]). Whatever is not a grant page
    /// (an unknown link, an expired, connected or withdrawn invite) is never kept: it is
    /// looked up, and counted against the client, every time.
    pub async fn grant_page_for(
        &self,
        raw_token: &str,
        client: Option<IpAddr>,
        locale: Locale,
        render: impl FnOnce(&GrantView<'_>) -> RenderedPage,
    ) -> Result<RenderedPage, SetupError> {
        let Some(token) = InviteToken::parse(raw_token) else {
            return self
                .open_link_for(raw_token, client)
                .await
                .map(|view| render(&view));
        };
        let key = (token.hash(), locale);
        // The mark is taken before anything is read, so a commit after it moves it.
        let mark = self.store.change_mark().await?;
        if let Some(mark) = mark {
            if let Some(page) = self.grant_pages.get(&key, mark, self.clock.now()) {
                return Ok(page);
            }
        }
        let view = self
            .count_unknown(client, self.open_token(token, &key.0))
            .await?;
        let page = render(&view);
        if let Some(mark) = mark {
            let expires_at = view.invite.expires_at;
            self.grant_pages.keep(key, mark, page.clone(), expires_at);
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> RenderedPage {
        RenderedPage {
            body: Bytes::copy_from_slice(text.as_bytes()),
            form_targets: Arc::from(vec!["https://cart.test".to_owned()]),
        }
    }

    fn key(link: &str) -> PageKey {
        (TokenHash::of(link), Locale::En)
    }

    const EXPIRES: Timestamp = Timestamp(1_000);

    #[test]
    fn a_kept_page_is_answered_under_its_mark_before_its_expiry() {
        // GIVEN a page kept under mark 3
        let pages = GrantPages::default();
        pages.keep(key("a"), 3, page("a"), EXPIRES);
        // WHEN it is asked for under the same mark, a moment before the invite expires
        let got = pages.get(&key("a"), 3, Timestamp(EXPIRES.0 - 1));
        // THEN it is the page kept
        assert_eq!(got, Some(page("a")));
    }

    #[test]
    fn a_newer_mark_drops_every_page() {
        // GIVEN two pages kept under mark 3
        let pages = GrantPages::default();
        pages.keep(key("a"), 3, page("a"), EXPIRES);
        pages.keep(key("b"), 3, page("b"), EXPIRES);
        // WHEN one is asked for under mark 4 (a commit since)
        let got = pages.get(&key("a"), 4, Timestamp(0));
        // THEN it is not answered, and neither page is kept any longer
        assert_eq!(got, None);
        assert!(pages.is_empty());
    }

    #[test]
    fn a_page_rendered_under_an_older_mark_is_not_kept() {
        // GIVEN pages already at mark 5
        let pages = GrantPages::default();
        pages.keep(key("a"), 5, page("a"), EXPIRES);
        // WHEN a page rendered from reads made under mark 4 comes to be kept
        pages.keep(key("b"), 4, page("b"), EXPIRES);
        // THEN it is not kept, and the mark's page stays
        assert_eq!(pages.get(&key("b"), 5, Timestamp(0)), None);
        assert_eq!(pages.get(&key("a"), 5, Timestamp(0)), Some(page("a")));
    }

    #[test]
    fn a_page_is_not_answered_once_its_invite_expired() {
        // GIVEN a page kept until its invite expires
        let pages = GrantPages::default();
        pages.keep(key("a"), 1, page("a"), EXPIRES);
        // WHEN it is asked for at the moment of expiry (Invite::is_expired from then on)
        let got = pages.get(&key("a"), 1, EXPIRES);
        // THEN it is not answered
        assert_eq!(got, None);
    }

    #[test]
    fn another_language_is_another_page() {
        // GIVEN a link's page kept in English
        let pages = GrantPages::default();
        pages.keep(key("a"), 1, page("a"), EXPIRES);
        // WHEN the same link is asked for in German
        let got = pages.get(&(TokenHash::of("a"), Locale::De), 1, Timestamp(0));
        // THEN nothing is answered
        assert_eq!(got, None);
    }

    #[test]
    fn no_more_than_the_limit_are_kept() {
        // GIVEN as many pages kept as the limit allows
        let pages = GrantPages::default();
        for i in 0..KEPT_PAGES {
            pages.keep(key(&i.to_string()), 1, page("p"), EXPIRES);
        }
        // WHEN one more is rendered
        pages.keep(key("one more"), 1, page("p"), EXPIRES);
        // THEN it is not kept, and the count stays at the limit
        assert_eq!(pages.get(&key("one more"), 1, Timestamp(0)), None);
        assert_eq!(pages.len(), KEPT_PAGES);
    }
}
