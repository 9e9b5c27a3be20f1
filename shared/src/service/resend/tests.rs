use crate::domain::{InviteId, InviteStatus, TokenHash, WarehouseId};
use crate::mailer::OutgoingEmail;
use crate::service::resend::{ResendError, Resent, RESENDS_PER_DAY};
use crate::service::setup::SetupError;
use crate::store::{EmailKind, InviteStore};
use crate::testing::{TestKit, T0};

fn warehouse() -> WarehouseId {
    WarehouseId::parse("wh-test").unwrap()
}

async fn resend(kit: &TestKit, id: &InviteId) -> Result<Resent, ResendError> {
    kit.services.resend_invite(&warehouse(), id.as_str()).await
}

/// The link token in a setup URL.
fn token_of(setup_url: &str) -> String {
    setup_url.rsplit('/').next().unwrap().to_owned()
}

/// The link token and the access code an email carries.
fn secrets_in(mail: &OutgoingEmail) -> (String, String) {
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.starts_with("https://cartlink.test/setup/"))
        .unwrap();
    let code = mail
        .text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 11 && l.as_bytes()[5] == b'-')
        .unwrap();
    (token_of(link), code.to_owned())
}

#[tokio::test]
async fn a_resend_emails_a_working_link_and_code_and_kills_the_old_ones() {
    // GIVEN an emailed invite, its link and code
    let kit = TestKit::new();
    let (id, old_token) = kit.invite().await;
    let old_code = kit.access_code();
    // WHEN the warehouse resends it
    let resent = resend(&kit, &id).await.unwrap();
    // THEN a second email carries the answer's link and a new code
    let mails = kit.mailer.messages();
    assert_eq!(mails.len(), 2);
    let (new_token, new_code) = secrets_in(&mails[1]);
    assert_eq!(new_token, token_of(&resent.setup_url));
    assert_ne!(new_code, old_code);
    assert_eq!(resent.email_error, None);
    assert_eq!(resent.invite.resends, 1);
    // AND the old link and code open nothing, as a link nobody issued
    assert!(matches!(
        kit.services.open_link(&old_token).await,
        Err(SetupError::InvalidLink)
    ));
    assert!(matches!(
        kit.services.redeem_access_code(&old_code, None).await,
        Err(SetupError::InvalidLink)
    ));
    // AND the new ones open the grant page
    assert!(kit.services.open_link(&new_token).await.is_ok());
    assert!(kit
        .services
        .redeem_access_code(&new_code, None)
        .await
        .is_ok());
}

#[tokio::test]
async fn the_resent_email_has_a_send_record_and_key_of_its_own() {
    // GIVEN an invite resent once
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    resend(&kit, &id).await.unwrap();
    // THEN the email carries the resend's own idempotency key
    let mails = kit.mailer.messages();
    assert_eq!(
        mails[1].idempotency_key.as_deref(),
        Some(format!("{id}-invite_resend_1").as_str())
    );
    // AND its send record is sent: a retry of that resend's email would send nothing
    use crate::store::{SendClaim, SendLedger};
    assert!(matches!(
        kit.store
            .claim_send(&id, EmailKind::InviteResend(1), T0, 120)
            .await
            .unwrap(),
        SendClaim::AlreadySent(_)
    ));
}

#[tokio::test]
async fn a_crash_after_the_new_link_was_stored_leaves_the_invite_resendable() {
    // GIVEN a resend that stored its link and code and died before the email
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    kit.store
        .replace_secrets(
            &id,
            0,
            &TokenHash::of("lost"),
            &TokenHash::of("lost-code"),
            "…LOST",
            T0,
        )
        .await
        .unwrap();
    assert_eq!(kit.mailer.messages().len(), 1);
    // WHEN the warehouse resends again
    let resent = resend(&kit, &id).await.unwrap();
    // THEN the second resend is emailed, and its link works
    let mails = kit.mailer.messages();
    assert_eq!(mails.len(), 2);
    let (token, _) = secrets_in(&mails[1]);
    assert_eq!(resent.invite.resends, 2);
    assert!(kit.services.open_link(&token).await.is_ok());
}

#[tokio::test]
async fn of_concurrent_resends_every_email_sent_is_of_a_stored_link_and_the_last_one_works() {
    // GIVEN an emailed invite
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    // WHEN five resends run at once
    let outcomes = futures::future::join_all((0..5).map(|_| resend(&kit, &id))).await;
    // THEN each either emailed its link or was refused as concurrent, sending nothing
    let ok: Vec<&Resent> = outcomes.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert!(!ok.is_empty());
    assert!(outcomes
        .iter()
        .all(|r| matches!(r, Ok(_) | Err(ResendError::Concurrent))));
    let mails = kit.mailer.messages();
    assert_eq!(mails.len(), 1 + ok.len());
    // AND of every emailed link exactly one opens the invite: the last stored one's
    let last = ok.iter().max_by_key(|r| r.invite.resends).unwrap();
    let mut opening = Vec::new();
    for mail in &mails[1..] {
        let (token, _) = secrets_in(mail);
        if kit.services.open_link(&token).await.is_ok() {
            opening.push(token);
        }
    }
    assert_eq!(opening, vec![token_of(&last.setup_url)]);
}

#[tokio::test]
async fn the_sixth_resend_in_a_day_is_refused_until_the_next_day() {
    // GIVEN an invite resent five times today
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    for _ in 0..RESENDS_PER_DAY {
        resend(&kit, &id).await.unwrap();
    }
    // WHEN it is resent a sixth time, an hour later
    kit.clock.advance(3600);
    let sixth = resend(&kit, &id).await;
    // THEN it is refused until the next UTC day (T0 is a midnight), and nothing is sent
    assert!(
        matches!(sixth, Err(ResendError::RateLimited { retry_after }) if retry_after == 23 * 3600),
        "{sixth:?}"
    );
    assert_eq!(kit.mailer.messages().len(), 1 + RESENDS_PER_DAY as usize);
    // AND the next day it is resent again
    kit.clock.advance(23 * 3600);
    assert!(resend(&kit, &id).await.is_ok());
}

#[tokio::test]
async fn a_connected_withdrawn_undeliverable_or_expired_invite_is_not_resent() {
    let kit = TestKit::new();
    // GIVEN a connected invite THEN it is refused as connected
    let connected = kit.authorized().await;
    assert!(matches!(
        resend(&kit, &connected).await,
        Err(ResendError::Connected)
    ));
    // GIVEN a withdrawn and an undeliverable one THEN each is refused as such
    for (to, expect) in [
        (InviteStatus::Revoked, "withdrawn"),
        (InviteStatus::Undeliverable, "undeliverable"),
    ] {
        let (id, _) = kit.invite().await;
        kit.store
            .set_invite_status(&id, to, None, T0)
            .await
            .unwrap();
        let refused = resend(&kit, &id).await.unwrap_err();
        assert!(refused.to_string().contains(expect), "{refused}");
    }
    // GIVEN an invite past its expiry THEN it is refused as expired
    let (old, _) = kit.invite().await;
    kit.clock.advance(15 * 24 * 3600);
    assert!(matches!(
        resend(&kit, &old).await,
        Err(ResendError::Expired)
    ));
    // AND none of them was emailed again: four invites, four invite emails
    assert_eq!(kit.mailer.messages().len(), 4);
}

#[tokio::test]
async fn another_warehouses_unknown_or_malformed_invite_is_not_found() {
    // GIVEN an invite of the test warehouse
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    let other = WarehouseId::parse("wh-other").unwrap();
    // THEN another warehouse, an unknown id and a malformed one all find nothing
    for (wh, raw) in [
        (other, id.to_string()),
        (warehouse(), InviteId::generate().to_string()),
        (warehouse(), "not an id".to_owned()),
    ] {
        assert!(matches!(
            kit.services.resend_invite(&wh, &raw).await,
            Err(ResendError::NotFound)
        ));
    }
    assert_eq!(kit.mailer.messages().len(), 1);
}

#[tokio::test]
async fn a_refused_email_says_so_and_an_unemailed_invite_is_marked_email_failed() {
    // GIVEN an invite whose first email was refused, and a mail service that still refuses
    let kit = TestKit::new();
    *kit.mailer.reject.lock().unwrap() = Some("address rejected".into());
    let (id, _) = kit.invite().await;
    // WHEN it is resent
    let resent = resend(&kit, &id).await.unwrap();
    // THEN the answer says the email failed, and the invite stays email_failed
    assert_eq!(
        resent.email_error.as_deref().map(|e| e == "mail_rejected"),
        Some(true)
    );
    assert_eq!(resent.invite.status, InviteStatus::EmailFailed);
    // WHEN the mail service takes the next resend THEN the invite is emailed
    *kit.mailer.reject.lock().unwrap() = None;
    let resent = resend(&kit, &id).await.unwrap();
    assert_eq!(resent.email_error, None);
    assert_eq!(
        kit.store.invite(&id).await.unwrap().unwrap().status,
        InviteStatus::Emailed
    );
}

#[tokio::test]
async fn a_mail_outage_answers_unavailable_and_the_next_resend_sends() {
    // GIVEN an emailed invite and a mail service that cannot be reached
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    *kit.mailer.unavailable.lock().unwrap() = Some("timeout".into());
    // WHEN it is resent THEN the answer is unavailable: nothing claims it was emailed
    assert!(matches!(
        resend(&kit, &id).await,
        Err(ResendError::MailUnavailable)
    ));
    // WHEN the mail service is back and the warehouse resends THEN the email goes out
    *kit.mailer.unavailable.lock().unwrap() = None;
    let resent = resend(&kit, &id).await.unwrap();
    let (token, _) = secrets_in(&kit.mailer.messages()[1]);
    assert_eq!(token, token_of(&resent.setup_url));
    assert!(kit.services.open_link(&token).await.is_ok());
}
