//! The `oauth2` crate's path (standard exchange) reads a token answer at most 16 KiB.

use super::*;
use crate::carts::{builtin, CartSpec};
use crate::domain::Secret;

/// A token endpoint that answers any request with a token answer whose access token is `len`
/// bytes, in chunks and without a length (so only reading tells how long it is).
async fn token_endpoint(len: usize) -> Url {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let body = format!(
            r#"{{"access_token":"{}","token_type":"bearer","expires_in":3600}}"#,
            "a".repeat(len)
        );
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        let _ = sock.write_all(head.as_bytes()).await;
        for chunk in body.as_bytes().chunks(1024) {
            let size = format!("{:x}\r\n", chunk.len());
            if sock.write_all(size.as_bytes()).await.is_err()
                || sock.write_all(chunk).await.is_err()
                || sock.write_all(b"\r\n").await.is_err()
            {
                return;
            }
        }
        let _ = sock.write_all(b"0\r\n\r\n").await;
    });
    Url::parse(&format!("http://{addr}/token")).unwrap()
}

fn standard_cart() -> CartSpec {
    builtin::all()
        .into_iter()
        .find(|c| matches!(c.token_request, TokenRequest::Standard))
        .expect("a built-in cart with the standard exchange")
        .clone()
}

async fn exchange(token_url: &Url) -> Result<TokenSet, OAuthError> {
    let cart = standard_cart();
    let credentials = ClientCredentials::new("app", Some(Secret::new("shh")));
    let code = Secret::new("c0de");
    OAuthHttp::new(reqwest::Client::new())
        .exchange_code(CodeExchange {
            cart: &cart,
            credentials: &credentials,
            token_url,
            code: Some(&code),
            redirect_uri: "https://cartlink.test/oauth/callback/x",
            verifier: None,
            vars: &Default::default(),
            now: Timestamp(1_800_000_000),
        })
        .await
}

#[tokio::test]
async fn a_standard_token_answer_past_16_kib_is_refused() {
    // GIVEN a token endpoint whose answer is valid but 20 KiB long
    let url = token_endpoint(20 * 1024).await;
    // WHEN the code is exchanged through the oauth2 crate's path
    let outcome = exchange(&url).await;
    // THEN the answer is refused as too long, not parsed
    assert!(
        matches!(&outcome, Err(OAuthError::BadResponse(why)) if why.contains("too long")),
        "{:?}",
        outcome.map(|_| "tokens")
    );
}

#[tokio::test]
async fn a_standard_token_answer_within_16_kib_is_read() {
    // GIVEN a token endpoint whose answer is 4 KiB long
    let url = token_endpoint(4 * 1024).await;
    // WHEN the code is exchanged
    let tokens = exchange(&url).await.map_err(|e| e.to_string()).unwrap();
    // THEN its access token is read whole
    assert_eq!(tokens.access_token.expose().len(), 4 * 1024);
}
