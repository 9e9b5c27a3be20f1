//! `POST /v1/invites/{id}/resend` against the local server and a real cart: the new link and
//! code work, the old ones show the access-code page, the sixth resend in a day is 429.

use cartlink_e2e::{browser, Peers, API_KEY, CART};
use serde_json::{json, Value};

async fn resend(p: &Peers, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/invites/{id}/resend", p.base))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap()
}

/// Whether a link opens the grant page (else it shows the access-code page, as a broken one).
async fn opens_grant_page(link: &str) -> bool {
    let resp = reqwest::get(link).await.unwrap();
    let status = resp.status().as_u16();
    let html = resp.text().await.unwrap();
    if status == 404 {
        assert!(
            html.contains("This link is invalid or incomplete") && html.contains("Access Code")
        );
        return false;
    }
    assert_eq!(status, 200);
    html.contains("Grant API Access")
}

/// Whether a typed access code opens the grant page.
async fn code_opens_grant_page(p: &Peers, code: &str) -> bool {
    let page = browser()
        .post(format!("{}/setup", p.base))
        .form(&[("code", code)])
        .send()
        .await
        .unwrap();
    page.text().await.unwrap().contains("Grant API Access")
}

async fn created(p: &Peers) -> String {
    let (status, v) = p
        .create_invite(&json!({"cart": CART, "merchant_email": "merchant@shop.test"}))
        .await;
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_resent_invite_works_by_its_new_link_and_code_and_not_by_the_old_ones() {
    // GIVEN an emailed invite, its link and code from the email
    let p = Peers::start();
    let id = created(&p).await;
    let first = p.wait_for_emails(1).await.remove(0);
    let old_link = first.link(&format!("{}/setup/", p.base)).unwrap();
    let old_code = first.access_code().unwrap();
    // WHEN the warehouse resends it
    let resp = resend(&p, &id).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["email"], "sent");
    assert_eq!(answer["resends"], 1);
    // THEN the merchant gets a second email with the answer's link and a new code
    let mails = p.wait_for_emails(2).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].to, "merchant@shop.test");
    let new_link = mails[1].link(&format!("{}/setup/", p.base)).unwrap();
    let new_code = mails[1].access_code().unwrap();
    assert_eq!(new_link, answer["setup_url"].as_str().unwrap());
    // AND the old link and code show the access-code page; the new ones the grant page
    assert!(!opens_grant_page(&old_link).await);
    assert!(!code_opens_grant_page(&p, &old_code).await);
    assert!(opens_grant_page(&new_link).await);
    assert!(code_opens_grant_page(&p, &new_code).await);
}

#[tokio::test]
async fn the_sixth_resend_in_a_day_is_429_with_retry_after() {
    // GIVEN an invite resent five times
    let p = Peers::start();
    let id = created(&p).await;
    for _ in 0..5 {
        assert_eq!(resend(&p, &id).await.status(), 200);
    }
    // WHEN it is resent a sixth time
    let resp = resend(&p, &id).await;
    // THEN that is 429 rate-limited, saying when to try again, and no sixth email goes out
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let retry: i64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["type"], "urn:cartlink:problem:rate-limited");
    assert_eq!(p.wait_for_emails(7).await.len(), 6);
}

#[tokio::test]
async fn a_withdrawn_or_unknown_invite_is_not_resent() {
    // GIVEN a withdrawn invite
    let p = Peers::start();
    let id = created(&p).await;
    let withdrawn = reqwest::Client::new()
        .delete(format!("{}/v1/invites/{id}", p.base))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), 200);
    // WHEN it is resent THEN 409 invite-withdrawn
    let resp = resend(&p, &id).await;
    assert_eq!(resp.status(), 409);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["type"], "urn:cartlink:problem:invite-withdrawn");
    // AND an unknown invite is 404, a resend without a key 401, a GET of the route 405
    assert_eq!(resend(&p, "inv_unknown").await.status(), 404);
    let anonymous = reqwest::Client::new()
        .post(format!("{}/v1/invites/{id}/resend", p.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let get = reqwest::Client::new()
        .get(format!("{}/v1/invites/{id}/resend", p.base))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    // AND only the invite email went out
    assert_eq!(p.outbox().len(), 1);
}
