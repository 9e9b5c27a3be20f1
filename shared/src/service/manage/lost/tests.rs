use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::mailer::OutgoingEmail;
use crate::store::{ConnectionStore, Counters};
use crate::testing::TestKit;

const IP: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));

/// A kit with one confirmed connection of `Merchant@Shop.TEST`.
async fn confirmed() -> (TestKit, crate::domain::InviteId) {
    let kit = TestKit::new();
    let invite = kit.authorized().await;
    kit.services.confirm(&invite).await.unwrap();
    (kit, invite)
}

fn sent_again(kit: &TestKit) -> Vec<OutgoingEmail> {
    kit.mailer
        .messages()
        .into_iter()
        .filter(|m| {
            m.tags
                .iter()
                .any(|(k, v)| k == "kind" && v == "manage_link")
        })
        .collect()
}

#[tokio::test]
async fn a_lost_link_is_sent_again_to_the_address_and_opens_the_connection() {
    // GIVEN a confirmed connection
    let (kit, _) = confirmed().await;
    // WHEN its merchant types their address, written another way
    kit.services
        .send_lost_manage_links(" merchant@shop.test ", IP)
        .await
        .unwrap();
    // THEN one email went to the confirmation's address, and its link opens the connection
    let mails = sent_again(&kit);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "Merchant@shop.test");
    let at = mails[0].text.find("/manage/").unwrap() + "/manage/".len();
    let view = kit
        .services
        .manage_view(&mails[0].text[at..at + 43])
        .await
        .unwrap();
    assert!(matches!(
        view.standing,
        super::super::Standing::Connected { .. }
    ));
}

#[tokio::test]
async fn an_address_without_connections_is_answered_the_same_and_emailed_nothing() {
    // GIVEN a confirmed connection of another address
    let (kit, _) = confirmed().await;
    let before = kit.mailer.messages().len();
    // WHEN someone types an address that manages nothing
    let answer = kit
        .services
        .send_lost_manage_links("stranger@else.test", IP)
        .await;
    // THEN the answer is the same as for a known one, and nothing was sent
    assert!(answer.is_ok());
    assert_eq!(kit.mailer.messages().len(), before);
}

#[tokio::test]
async fn a_withdrawn_connection_is_not_sent_again() {
    // GIVEN a connection the merchant withdrew
    let (kit, invite) = confirmed().await;
    let conn = kit
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap();
    kit.services
        .disconnect_connection(&conn.warehouse_id, conn.id.as_str())
        .await
        .unwrap();
    // WHEN its address asks for its links
    kit.services
        .send_lost_manage_links("merchant@shop.test", IP)
        .await
        .unwrap();
    // THEN nothing is sent
    assert!(sent_again(&kit).is_empty());
}

#[tokio::test]
async fn a_client_is_refused_after_five_requests_an_hour_and_an_address_is_mailed_thrice_a_day() {
    // GIVEN a confirmed connection
    let (kit, _) = confirmed().await;
    // WHEN one client asks six times for that address
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(
            kit.services
                .send_lost_manage_links("merchant@shop.test", IP)
                .await,
        );
    }
    // THEN five are answered alike, the sixth refused, and the address got three emails
    assert!(answers[..5].iter().all(Result::is_ok));
    assert!(matches!(answers[5], Err(LostLinkError::TooMany)));
    assert_eq!(sent_again(&kit).len(), 3);
    // AND the counters say so
    assert!(!kit
        .store
        .count_hit_within(
            &format!(
                "lost-link-to:{}",
                merchant_hash("merchant@shop.test").as_str()
            ),
            DAY,
            LOST_LINK_EMAILS_PER_ADDRESS_PER_DAY,
            kit.services.clock.now(),
        )
        .await
        .unwrap());
}

#[tokio::test]
async fn what_is_not_an_address_is_refused_before_anything_is_counted() {
    let (kit, _) = confirmed().await;
    for typed in ["", "no-at-sign", "a@b@c", "Name <m@shop.test>"] {
        let answer = kit.services.send_lost_manage_links(typed, IP).await;
        assert!(
            matches!(answer, Err(LostLinkError::InvalidAddress)),
            "{typed}"
        );
    }
    assert!(sent_again(&kit).is_empty());
}
