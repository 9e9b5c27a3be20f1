//! The warehouse's reads over HTTP against the real local server (embedded store) and
//! oidc-provider as the cart: the invite and connection lists, their cursors and filters, the
//! connection view, and that another warehouse's ids look exactly like missing ones.
//! (The paging on DynamoDB is a store property: `port_contracts.rs` runs it on both stores.)

use std::collections::HashSet;

use cartlink_e2e::{Peers, API_KEY, CART, DEV_API_KEY};
use futures::future::join_all;
use serde_json::{json, Value};

/// `GET path` with `key`; answers (status, body).
async fn get(p: &Peers, key: &str, path: &str) -> (u16, Value) {
    call(p, key, reqwest::Method::GET, path).await
}

/// `method path` with `key`; answers (status, body, `null` when empty).
async fn call(p: &Peers, key: &str, method: reqwest::Method, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(method, format!("{}{path}", p.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A new invite of the e2e warehouse to `email`; answers its id.
async fn invite_to(p: &Peers, email: &str) -> String {
    invite_as(p, API_KEY, email).await
}

/// A new invite of the warehouse of `key` to `email`; answers its id.
async fn invite_as(p: &Peers, key: &str, email: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/invites", p.base))
        .bearer_auth(key)
        .json(&json!({"cart": CART, "merchant_email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// Every page of `path` (which has its query started), `limit` at a time: the pages' ids.
async fn pages(p: &Peers, key: &str, path: &str, limit: u32) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}&limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, v) = get(p, key, &url).await;
        assert_eq!(status, 200, "{v}");
        out.push(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned())
                .collect(),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

#[tokio::test]
async fn two_hundred_fifty_invites_paged_by_seven_over_http_are_each_seen_once() {
    // GIVEN 250 invites of the e2e warehouse, and one of the dev warehouse
    let p = Peers::start();
    let mut made = HashSet::new();
    for batch in 0..25 {
        let ids = join_all((0..10).map(|n| {
            let p = &p;
            async move { invite_to(p, &format!("m{batch}-{n}@shop.test")).await }
        }))
        .await;
        made.extend(ids);
    }
    let dev_own = invite_as(&p, DEV_API_KEY, "d@shop.test").await;
    // WHEN the warehouse reads its invites seven at a time, following next_cursor
    let pages = pages(&p, API_KEY, "/v1/invites?", 7).await;
    // THEN 35 full pages and one of 5, each invite exactly once
    assert_eq!(pages.len(), 36);
    assert!(pages[..35].iter().all(|p| p.len() == 7));
    assert_eq!(pages[35].len(), 5);
    let seen: Vec<String> = pages.into_iter().flatten().collect();
    assert_eq!(seen.len(), 250);
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), made);
    // AND the dev warehouse's list holds its own invite and none of them
    let (_, theirs) = get(&p, DEV_API_KEY, "/v1/invites").await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["data"][0]["id"], dev_own.as_str());
    assert_eq!(theirs["next_cursor"], Value::Null);
}

#[tokio::test]
async fn filters_narrow_the_invite_list() {
    // GIVEN five invites to a@ and three to b@, one of the a@ ones withdrawn
    let p = Peers::start();
    let mut to_a = Vec::new();
    for _ in 0..5 {
        to_a.push(invite_to(&p, "a@shop.test").await);
    }
    for _ in 0..3 {
        invite_to(&p, "b@shop.test").await;
    }
    let (status, _) = call(
        &p,
        API_KEY,
        reqwest::Method::DELETE,
        &format!("/v1/invites/{}", to_a[1]),
    )
    .await;
    assert_eq!(status, 200);
    let ids = |path: &'static str| {
        let p = &p;
        async move {
            let all: Vec<String> = pages(p, API_KEY, path, 2)
                .await
                .into_iter()
                .flatten()
                .collect();
            all
        }
    };
    // WHEN the list is read by address, by status, by cart and by all three
    let by_a = ids("/v1/invites?merchant_email=a@SHOP.test").await;
    let revoked = ids("/v1/invites?status=revoked").await;
    let by_cart = ids("/v1/invites?cart=oidc-cart").await;
    let other_cart = ids("/v1/invites?cart=sandbox").await;
    let a_emailed =
        ids("/v1/invites?merchant_email=a@shop.test&status=emailed&cart=oidc-cart").await;
    // THEN each holds exactly the invites that match
    assert_eq!(
        by_a.iter().collect::<HashSet<_>>(),
        to_a.iter().collect::<HashSet<_>>()
    );
    assert_eq!(revoked, vec![to_a[1].clone()]);
    assert_eq!(by_cart.len(), 8);
    assert!(other_cart.is_empty());
    assert_eq!(a_emailed.len(), 4);
    assert!(!a_emailed.contains(&to_a[1]));
}

#[tokio::test]
async fn bad_list_parameters_and_foreign_or_garbage_cursors_are_422() {
    // GIVEN a warehouse with three invites, and a cursor the dev warehouse was given
    let p = Peers::start();
    for _ in 0..3 {
        invite_to(&p, "m@shop.test").await;
    }
    let (_, first) = get(&p, API_KEY, "/v1/invites?limit=1").await;
    let own_cursor = first["next_cursor"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        invite_as(&p, DEV_API_KEY, "d@shop.test").await;
    }
    let (_, theirs) = get(&p, DEV_API_KEY, "/v1/invites?limit=1").await;
    let foreign = theirs["next_cursor"].as_str().unwrap().to_owned();
    // WHEN the warehouse sends bad parameters, a garbage cursor, the dev warehouse's cursor,
    // or an invites cursor to the connections list
    let bad = [
        ("/v1/invites?limit=0", "limit"),
        ("/v1/invites?limit=101", "limit"),
        ("/v1/invites?limit=seven", "limit"),
        ("/v1/invites?status=lost", "status"),
        ("/v1/invites?cart=No%20Cart", "cart"),
        ("/v1/invites?merchant_email=nobody", "merchant_email"),
        ("/v1/invites?cursor=%00%FF", "cursor"),
        ("/v1/invites?cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("/v1/connections?status=emailed", "status"),
        (
            "/v1/connections?merchant_email=m@shop.test",
            "merchant_email",
        ),
    ];
    let foreign_path = format!("/v1/invites?cursor={foreign}");
    let crossed_path = format!("/v1/connections?cursor={own_cursor}");
    let mut asked: Vec<(String, &str)> = bad.iter().map(|(u, f)| ((*u).to_owned(), *f)).collect();
    asked.push((foreign_path, "cursor"));
    asked.push((crossed_path, "cursor"));
    for (path, field) in asked {
        let (status, v) = get(&p, API_KEY, &path).await;
        // THEN each is a 422 invalid-field naming the parameter, never a 5xx
        assert_eq!(status, 422, "{path}: {v}");
        assert_eq!(v["type"], "urn:cartlink:problem:invalid-field", "{path}");
        assert!(
            v["detail"].as_str().unwrap().starts_with(field),
            "{path}: {v}"
        );
    }
    // AND the warehouse's own cursor still reads its next page
    let (status, next) = get(
        &p,
        API_KEY,
        &format!("/v1/invites?limit=1&cursor={own_cursor}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_connection_is_listed_and_shown_without_any_token() {
    // GIVEN a merchant who granted access through the cart
    let p = Peers::start();
    let (invite_id, connection_id) = p.connect_merchant("merchant@shop.test").await;
    let (status, tokens) = get(
        &p,
        API_KEY,
        &format!("/v1/connections/{connection_id}/tokens"),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    // WHEN the warehouse lists its connections and shows this one
    let (status, list) = get(&p, API_KEY, "/v1/connections").await;
    assert_eq!(status, 200);
    let (status, shown) = get(&p, API_KEY, &format!("/v1/connections/{connection_id}")).await;
    assert_eq!(status, 200, "{shown}");
    // THEN the list holds it, and the view says what was granted, for what, and until when
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], connection_id.as_str());
    assert_eq!(list["next_cursor"], Value::Null);
    assert_eq!(shown["id"], connection_id.as_str());
    assert_eq!(shown["invite_id"], invite_id.as_str());
    assert_eq!(shown["cart"], CART);
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["scopes"], json!(["orders:read", "inventory:write"]));
    assert_eq!(shown["functions"], json!(["orders", "inventory"]));
    assert!(shown["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(shown["access_token_expires_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    // (never refreshed yet, and the generic cart documents no fixed re-authorization period)
    assert_eq!(shown["last_refreshed_at"], Value::Null);
    assert_eq!(shown["reauthorize_by"], Value::Null);
    // AND neither answer carries the token
    let token = tokens["access_token"].as_str().unwrap();
    for answer in [&list, &shown] {
        assert!(!answer.to_string().contains(token), "{answer}");
        assert!(!answer.to_string().contains("token\""), "{answer}");
    }
}

#[tokio::test]
async fn another_warehouses_ids_look_exactly_like_missing_ones_on_every_route_and_method() {
    // GIVEN an invite and its connection of the e2e warehouse, and ids nobody was given
    let p = Peers::start();
    let (invite_id, connection_id) = p.connect_merchant("merchant@shop.test").await;
    let none_inv = "inv-0000000000000000000000000000000000000000";
    let none_con = "con-0000000000000000000000000000000000000000";
    // Every route with an id, and the method that acts on it.
    let routes = [
        (
            format!("/v1/invites/{invite_id}"),
            format!("/v1/invites/{none_inv}"),
            "GET",
        ),
        (
            format!("/v1/invites/{invite_id}/events"),
            format!("/v1/invites/{none_inv}/events"),
            "GET",
        ),
        (
            format!("/v1/invites/{invite_id}/resend"),
            format!("/v1/invites/{none_inv}/resend"),
            "POST",
        ),
        (
            format!("/v1/connections/{connection_id}"),
            format!("/v1/connections/{none_con}"),
            "GET",
        ),
        (
            format!("/v1/connections/{connection_id}/tokens"),
            format!("/v1/connections/{none_con}/tokens"),
            "GET",
        ),
        (
            format!("/v1/connections/{connection_id}/reconnect"),
            format!("/v1/connections/{none_con}/reconnect"),
            "POST",
        ),
    ];
    let methods = [
        reqwest::Method::GET,
        reqwest::Method::HEAD,
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ];
    for (theirs_path, missing_path, acting) in &routes {
        for method in methods.clone() {
            // WHEN the dev warehouse asks for it, and for the missing id, with each method
            let theirs = call(&p, DEV_API_KEY, method.clone(), theirs_path).await;
            let nobodys = call(&p, DEV_API_KEY, method.clone(), missing_path).await;
            // THEN both answers are the same, status and body
            assert_eq!(theirs, nobodys, "{method} {theirs_path}");
            // AND the method that acts on it is a 404, while its owner can read it
            if method.as_str() == *acting {
                assert_eq!(theirs.0, 404, "{method} {theirs_path}");
                assert_eq!(theirs.1["type"], "urn:cartlink:problem:not-found");
                if *acting == "GET" {
                    assert_eq!(get(&p, API_KEY, theirs_path).await.0, 200);
                }
            }
        }
    }
}
