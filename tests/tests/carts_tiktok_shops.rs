//! TikTok Shop's authorized shops, read at grant (issue 13, items 4 and 7): after the code
//! exchange, cartlink calls Get Authorized Shops signed as TikTok Shop's client libraries sign
//! it (the stand-in, `common/tiktok.rs`, checks the signature with its own code and counts its
//! calls) and records each shop's id and cipher on the connection, whose account stays the
//! seller's `open_id`; the token API's call details answer them. A lookup the cart refuses, or
//! one that lists no shop, fails the grant as a failed exchange does: nothing is stored.

#[path = "common/rig.rs"]
mod common;
#[path = "common/tiktok.rs"]
mod tiktok;

use cartlink_e2e::browser;
use common::{Rig, CLIENT_ID, CLIENT_SECRET, KEY};
use serde_json::{json, Value};
use shared::domain::{InviteId, Shop};
use tiktok::{
    ShopsCalls, ACCESS_TOKEN, OPEN_ID, OTHER_SHOP_CIPHER, OTHER_SHOP_ID, SHOP_CIPHER, SHOP_ID,
};

const SERVICE_ID: &str = "7310403104158238510";

/// A rig whose TikTok Shop stand-in grants, and serves Get Authorized Shops to the app
/// `(key, secret)` answering `shops`.
async fn rig_serving(app: (&str, &str), shops: Option<Value>) -> (Rig, ShopsCalls) {
    let rig = Rig::start_with("tiktok-shop", &format!("app_id = \"{SERVICE_ID}\"")).await;
    tiktok::serve_grant(&rig.stand, &rig.callback("tiktok-shop")).await;
    let calls = match shops {
        Some(shops) => tiktok::serve(&rig.stand, app, ACCESS_TOKEN, shops).await,
        None => tiktok::serve_shops(&rig.stand, app, ACCESS_TOKEN).await,
    };
    (rig, calls)
}

/// The seller grants: the invite, and the callback's status and page.
async fn granted(rig: &Rig) -> (InviteId, u16, String) {
    let (invite, setup) = rig.invite("tiktok-shop", "global").await;
    let (status, page) = rig.grant(&browser(), &setup).await;
    (invite, status, page)
}

fn shop(id: &str, cipher: &str) -> Shop {
    Shop {
        id: id.to_owned(),
        cipher: cipher.to_owned(),
    }
}

#[tokio::test]
async fn a_grant_records_the_sellers_shops_and_their_ciphers_beside_its_open_id() {
    // GIVEN TikTok Shop's stand-in, serving the seller's two shops to a well-signed call
    let (rig, calls) = rig_serving((CLIENT_ID, CLIENT_SECRET), None).await;
    // WHEN the seller grants
    let (invite, status, page) = granted(&rig).await;
    // THEN the connection is stored with the open_id as its account and both shops with
    // their ciphers, read by one call the stand-in accepted
    assert_eq!(status, 200, "{page}");
    let conn = rig.connection(&invite).await.expect("a connection");
    assert_eq!(conn.account.as_deref(), Some(OPEN_ID));
    assert_eq!(
        conn.shops,
        [
            shop(SHOP_ID, SHOP_CIPHER),
            shop(OTHER_SHOP_ID, OTHER_SHOP_CIPHER)
        ]
    );
    assert_eq!(calls.counts(), (1, 0));
}

#[tokio::test]
async fn the_token_api_answers_the_shops_and_their_ciphers_in_the_call_details() {
    // GIVEN a seller connected with two shops
    let (rig, _) = rig_serving((CLIENT_ID, CLIENT_SECRET), None).await;
    let (invite, status, page) = granted(&rig).await;
    assert_eq!(status, 200, "{page}");
    let conn = rig.connection(&invite).await.expect("a connection");
    // WHEN the warehouse asks for the connection's token
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/connections/{}/tokens", rig.base, conn.id))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    // THEN the call details name the API's host, the token header and each shop's cipher
    let api = &v["api"];
    let base = api["base_url"].as_str().unwrap();
    assert!(base.contains("open-api.tiktokglobalshop.com"), "{base}");
    assert_eq!(api["headers"], json!({"x-tts-access-token": ACCESS_TOKEN}));
    assert_eq!(
        api["shops"],
        json!([{"id": SHOP_ID, "cipher": SHOP_CIPHER},
               {"id": OTHER_SHOP_ID, "cipher": OTHER_SHOP_CIPHER}])
    );
    assert_eq!(v["account"], json!(OPEN_ID));
}

#[tokio::test]
async fn a_grant_whose_shops_call_the_cart_refuses_stores_nothing() {
    // GIVEN a stand-in that knows the app by another secret, so cartlink's signature is wrong
    // to it
    let (rig, calls) = rig_serving((CLIENT_ID, "another-app-secret"), None).await;
    // WHEN the seller grants
    let (invite, status, page) = granted(&rig).await;
    // THEN the stand-in refused the one call, the merchant sees no success and nothing is
    // stored
    assert_eq!(calls.counts(), (0, 1));
    assert!(status >= 400, "{status}: {page}");
    assert!(!page.contains("Successful Authorization"), "{page}");
    assert!(rig.connection(&invite).await.is_none());
}

#[tokio::test]
async fn a_grant_whose_shops_answer_lists_no_shop_stores_nothing() {
    // GIVEN a stand-in whose Get Authorized Shops answers an empty list
    let (rig, calls) = rig_serving((CLIENT_ID, CLIENT_SECRET), Some(json!([]))).await;
    // WHEN the seller grants
    let (invite, status, page) = granted(&rig).await;
    // THEN the call was accepted, but no connection the webhook could never find is stored
    assert_eq!(calls.counts(), (1, 0));
    assert!(status >= 400, "{status}: {page}");
    assert!(rig.connection(&invite).await.is_none());
}
