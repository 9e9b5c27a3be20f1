//! The grant pages kept between opens ([`Services::grant_page_for`]): answered again only while
//! nothing was committed and the invite has not expired.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::pages::RenderedPage;
use super::*;
use crate::domain::{Locale, WarehouseId};
use crate::testing::faults::{FaultPlan, FaultyStore};
use crate::testing::TestKit;

/// A renderer that counts its calls and writes the invite's status and the number of the call.
#[derive(Default)]
struct Renders(AtomicUsize);

impl Renders {
    fn render(&self, view: &GrantView<'_>) -> RenderedPage {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        RenderedPage {
            body: Bytes::from(format!("{} #{n}", view.invite.status.as_str())),
            form_targets: view.authorize_origin.iter().cloned().collect(),
        }
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

async fn open(kit: &TestKit, token: &str, renders: &Renders) -> Result<RenderedPage, SetupError> {
    open_in(kit, token, Locale::En, renders).await
}

async fn open_in(
    kit: &TestKit,
    token: &str,
    locale: Locale,
    renders: &Renders,
) -> Result<RenderedPage, SetupError> {
    kit.services
        .grant_page_for(token, None, locale, |view| renders.render(view))
        .await
}

fn wh() -> WarehouseId {
    WarehouseId::parse("wh-test").unwrap()
}

#[tokio::test]
async fn a_link_opened_again_is_answered_with_the_page_rendered_before() {
    // GIVEN a link whose page was rendered once
    let kit = TestKit::new();
    let (_, token) = kit.invite().await;
    let renders = Renders::default();
    let first = open(&kit, &token, &renders).await.unwrap();
    // WHEN it is opened again, nothing committed since
    let again = open(&kit, &token, &renders).await.unwrap();
    // THEN the same page answers, rendered once
    assert_eq!(again, first);
    assert_eq!(renders.count(), 1);
}

#[tokio::test]
async fn a_withdrawal_after_a_page_was_kept_is_shown_at_the_next_open() {
    // GIVEN a link whose page is kept
    let kit = TestKit::new();
    let (id, token) = kit.invite().await;
    let renders = Renders::default();
    open(&kit, &token, &renders).await.unwrap();
    // WHEN the warehouse withdraws the invite, then the link is opened
    kit.services
        .withdraw_invite(&wh(), id.as_str())
        .await
        .unwrap()
        .unwrap();
    let after = open(&kit, &token, &renders).await;
    // THEN it shows the withdrawal, not the kept page
    assert!(
        matches!(after, Err(SetupError::Revoked { .. })),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_commit_by_another_process_is_seen_at_the_next_open() {
    // GIVEN a link whose page is kept
    let kit = TestKit::new();
    let (id, token) = kit.invite().await;
    let renders = Renders::default();
    open(&kit, &token, &renders).await.unwrap();
    // WHEN another connection to the file (an operator's sqlite3, another process) makes the
    // invite expired
    let other = rusqlite::Connection::open(kit.dir.path().join("cartlink.db")).unwrap();
    other
        .execute(
            "UPDATE invites SET expires_at = ?1 WHERE id = ?2",
            rusqlite::params![kit.services.clock.now().0 - 1, id.as_str()],
        )
        .unwrap();
    let after = open(&kit, &token, &renders).await;
    // THEN the link shows the expiry, not the kept page
    assert!(
        matches!(after, Err(SetupError::Expired { .. })),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_kept_page_is_not_shown_once_its_invite_expired() {
    // GIVEN a link whose page is kept
    let kit = TestKit::new();
    let (id, token) = kit.invite().await;
    let renders = Renders::default();
    open(&kit, &token, &renders).await.unwrap();
    // WHEN the clock reaches the invite's expiry, nothing committed
    let invite = kit.services.store.invite(&id).await.unwrap().unwrap();
    let now = kit.services.clock.now();
    kit.clock.advance(invite.expires_at.0 - now.0);
    let after = open(&kit, &token, &renders).await;
    // THEN the link shows the expiry
    assert!(
        matches!(after, Err(SetupError::Expired { .. })),
        "{after:?}"
    );
}

#[tokio::test]
async fn each_language_has_its_own_page() {
    // GIVEN a link whose English page is kept
    let kit = TestKit::new();
    let (_, token) = kit.invite().await;
    let renders = Renders::default();
    open(&kit, &token, &renders).await.unwrap();
    // WHEN it is opened in German
    open_in(&kit, &token, Locale::De, &renders).await.unwrap();
    // THEN the German page is rendered, not the English one answered
    assert_eq!(renders.count(), 2);
}

#[tokio::test]
async fn a_store_that_cannot_tell_its_commits_has_every_page_rendered() {
    // GIVEN a store that answers no change mark (as DynamoDB does), with a link opened once
    let mut kit = TestKit::new();
    let (_, token) = kit.invite().await;
    kit.services.store = Arc::new(FaultyStore::new(
        kit.services.store.clone(),
        FaultPlan::new(),
    ));
    let renders = Renders::default();
    open(&kit, &token, &renders).await.unwrap();
    // WHEN it is opened again
    open(&kit, &token, &renders).await.unwrap();
    // THEN its page is rendered again, from a fresh read
    assert_eq!(renders.count(), 2);
    assert!(kit.services.grant_pages.is_empty());
}

#[tokio::test]
async fn an_unknown_link_is_counted_at_every_open() {
    // GIVEN a client that opened links nobody issued as often as it may
    let kit = TestKit::new();
    let renders = Renders::default();
    let client = Some(IpAddr::from([198, 51, 100, 7]));
    let unknown = "A".repeat(43);
    for _ in 0..crate::service::link_guard::UNKNOWN_LINKS_PER_CLIENT {
        let r = kit
            .services
            .grant_page_for(&unknown, client, Locale::En, |v| renders.render(v))
            .await;
        assert!(matches!(r, Err(SetupError::InvalidLink)), "{r:?}");
    }
    // WHEN it opens one more
    let more = kit
        .services
        .grant_page_for(&unknown, client, Locale::En, |v| renders.render(v))
        .await;
    // THEN it is told to wait: no answer was kept in place of the count
    assert!(matches!(more, Err(SetupError::TooManyAttempts)), "{more:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opens_beside_a_withdrawal_show_it_once_it_returned() {
    // GIVEN a link whose page is kept
    let kit = Arc::new(TestKit::new());
    let (id, token) = kit.invite().await;
    let renders = Arc::new(Renders::default());
    open(&kit, &token, &renders).await.unwrap();
    // WHEN 20 opens run while the warehouse withdraws the invite
    let opens: Vec<_> = (0..20)
        .map(|_| {
            let (kit, token, renders) = (kit.clone(), token.clone(), renders.clone());
            tokio::spawn(async move { open(&kit, &token, &renders).await.map(|_| ()) })
        })
        .collect();
    kit.services
        .withdraw_invite(&wh(), id.as_str())
        .await
        .unwrap()
        .unwrap();
    for o in opens {
        // (each answers the page or the withdrawal, whichever it read)
        let r = o.await.unwrap();
        assert!(
            matches!(r, Ok(()) | Err(SetupError::Revoked { .. })),
            "{r:?}"
        );
    }
    // THEN every open after the withdrawal returned shows it
    for _ in 0..20 {
        let after = open(&kit, &token, &renders).await;
        assert!(
            matches!(after, Err(SetupError::Revoked { .. })),
            "{after:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_first_opens_at_once_answer_one_page() {
    // GIVEN a link never opened
    let kit = Arc::new(TestKit::new());
    let (_, token) = kit.invite().await;
    let renders = Arc::new(Renders::default());
    // WHEN it is opened 20 times at once
    let opens: Vec<_> = (0..20)
        .map(|_| {
            let (kit, token, renders) = (kit.clone(), token.clone(), renders.clone());
            tokio::spawn(async move { open(&kit, &token, &renders).await.unwrap() })
        })
        .collect();
    let mut bodies = Vec::new();
    for o in opens {
        bodies.push(o.await.unwrap().body);
    }
    // THEN every open answers the grant page (some rendered, the rest kept), and one page is
    // kept
    assert!(
        bodies.iter().all(|b| b.starts_with(b"emailed #")),
        "{bodies:?}"
    );
    assert_eq!(kit.services.grant_pages.len(), 1);
}
