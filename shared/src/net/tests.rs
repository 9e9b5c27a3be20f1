use super::*;

#[test]
fn plain_http_is_callable_only_to_loopback_and_only_where_allowed() {
    let url = |raw: &str| Url::parse(raw).unwrap();
    // GIVEN https anywhere THEN it is callable in every configuration
    assert!(is_secure_scheme(&url("https://auth.acme.test/t"), false));
    // GIVEN plain http to loopback THEN only a loopback configuration may call it
    for local in [
        "http://127.0.0.1:9/t",
        "http://localhost/t",
        "http://[::1]/t",
    ] {
        assert!(is_secure_scheme(&url(local), true), "{local}");
        assert!(!is_secure_scheme(&url(local), false), "{local}");
    }
    // GIVEN plain http to anything else, or another scheme THEN never
    assert!(!is_secure_scheme(&url("http://auth.acme.test/t"), true));
    assert!(!is_secure_scheme(&url("ftp://127.0.0.1/t"), true));
}

#[test]
fn a_configured_endpoint_with_credentials_or_a_fragment_is_refused() {
    // GIVEN endpoints that carry a user, a password or a fragment
    for bad in [
        "https://user@auth.acme.test/t",
        "https://user:pw@auth.acme.test/t",
        "https://auth.acme.test/t#frag",
    ] {
        // THEN each is refused, saying why
        let refused = endpoint_url("token_url", bad, true).unwrap_err();
        assert!(
            refused.contains("fragment or credentials"),
            "{bad}: {refused}"
        );
    }
    // AND a clean one is taken as written
    let ok = endpoint_url("token_url", "https://auth.acme.test/t?x=1", false).unwrap();
    assert_eq!(ok.as_str(), "https://auth.acme.test/t?x=1");
}

/// Serves one answer of `len` bytes (no Content-Length: chunked), once.
async fn serve_answer(len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = sock.read(&mut buf).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let chunk = vec![b'a'; 1024];
        for _ in 0..len / 1024 {
            let head = format!("{:x}\r\n", chunk.len());
            if sock.write_all(head.as_bytes()).await.is_err()
                || sock.write_all(&chunk).await.is_err()
                || sock.write_all(b"\r\n").await.is_err()
            {
                return;
            }
        }
        let _ = sock.write_all(b"0\r\n\r\n").await;
    });
    format!("http://{addr}/")
}

/// A peer that takes connections and never answers.
async fn silent_peer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    format!("http://{addr}/token")
}

#[tokio::test]
async fn a_call_to_a_peer_that_never_answers_ends_at_the_timeout() {
    // GIVEN the one outbound client with a short timeout, and a peer that never answers
    let client = outbound_client(Duration::from_millis(300), false);
    let url = silent_peer().await;
    // WHEN it calls (a guard of 10 s stands for "for ever": without the client's timeout
    // the call would never end)
    let call = tokio::time::timeout(Duration::from_secs(10), client.post(&url).send());
    let err = call.await.expect("the client has no timeout").unwrap_err();
    // THEN it gives up as a timeout
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn a_webhook_post_to_a_silent_receiver_is_a_timeout_try() {
    use crate::webhooks::http::POST_TIMEOUT;
    use crate::webhooks::{HttpSender, PostOutcome, WebhookSender};
    // GIVEN the sender on a client whose own timeout (for cart calls) is an hour
    let sender = HttpSender(outbound_client(Duration::from_secs(3600), false));
    let url = silent_peer().await;
    // WHEN it posts to a receiver that never answers (the guard stands for "for ever")
    let guard = POST_TIMEOUT + Duration::from_secs(5);
    let post = tokio::time::timeout(guard, sender.post(&url, &[], "{}"));
    let outcome = post.await.expect("the sender has no timeout");
    assert_eq!(outcome, PostOutcome::NoAnswer("timeout"));
}

#[tokio::test]
async fn a_body_past_the_limit_is_refused_and_one_within_it_read() {
    // GIVEN answers of 4 KiB and of 1 MiB
    let client = reqwest::Client::new();
    let small = client.get(serve_answer(4096).await).send().await.unwrap();
    let large = client
        .get(serve_answer(1 << 20).await)
        .send()
        .await
        .unwrap();
    // WHEN each is read with a 16 KiB limit
    // THEN the small one is read whole, the large one refused
    assert_eq!(read_bounded(small, 16 * 1024).await.unwrap().len(), 4096);
    assert!(matches!(
        read_bounded(large, 16 * 1024).await,
        Err(BodyError::TooLong(16384))
    ));
}

#[test]
fn special_purpose_addresses_of_the_iana_registries_are_not_public() {
    // GIVEN an address from each special-purpose block the registries list
    for special in [
        "0.1.2.3",
        "10.0.0.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.1",
        "203.0.113.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:2::1",
        "2001:db8::1",
        "2002:c000:0204::1",
        "3fff::1",
        "fc00::1",
        "fd12::1",
        "fe80::1",
        "ff02::1",
    ] {
        // THEN it is not public
        assert!(!is_public_ip(special.parse().unwrap()), "{special}");
    }
}

#[test]
fn public_unicast_addresses_are_public_even_beside_a_special_block() {
    for public in [
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",
        "100.128.0.1",
        "172.32.0.1",
        "198.17.255.255",
        "198.20.0.1",
        "192.0.1.1",
        "::ffff:8.8.8.8",
        "2001:4860:4860::8888",
        "2606:4700::1111",
        "2001:200::1",
    ] {
        assert!(is_public_ip(public.parse().unwrap()), "{public}");
    }
}

#[test]
fn a_webhook_url_on_a_private_or_loopback_address_is_refused_in_production() {
    // GIVEN URLs to private, loopback, link-local and local-name hosts
    for bad in [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.9/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
        "https://hooks.internal/hook",
        "https://intranet/hook",
        "http://hooks.example.com/hook",
    ] {
        // WHEN checked in a production configuration THEN refused
        assert!(webhook_url(bad, false).is_err(), "{bad}");
    }
    // AND a public https URL is taken
    assert_eq!(
        webhook_url("https://hooks.example.com/in?x=1", false).unwrap(),
        "https://hooks.example.com/in?x=1"
    );
    assert!(webhook_url("https://8.8.8.8/in", false).is_ok());
}

#[test]
fn a_loopback_configuration_may_use_a_loopback_receiver() {
    assert_eq!(
        webhook_url("http://127.0.0.1:9000/in", true).unwrap(),
        "http://127.0.0.1:9000/in"
    );
    assert!(webhook_url("http://127.0.0.1:9000/in", false).is_err());
}

#[test]
fn store_urls_must_be_https_to_a_public_named_host() {
    assert_eq!(
        public_https_url("https://Shop.Example.com/store/").unwrap(),
        "https://shop.example.com/store"
    );
    for bad in [
        "http://shop.example.com",
        "https://127.0.0.1",
        "https://[::1]/",
        "https://10.0.0.5",
        "https://169.254.169.254/latest",
        "https://localhost",
        "https://shop.localhost",
        "https://intranet",
        "https://nas.local",
        "https://u:p@shop.example.com",
        "https://shop.example.com/?x=1",
        "ftp://shop.example.com",
        "https://shop.example.com:8443/store",
        "https://shop.example.com:22",
    ] {
        assert!(public_https_url(bad).is_err(), "{bad}");
    }
    // AND the https port written out is the same URL
    assert_eq!(
        public_https_url("https://shop.example.com:443/store").unwrap(),
        "https://shop.example.com/store"
    );
}

#[test]
fn only_public_addresses_are_public() {
    for private in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
    ] {
        assert!(!is_public_ip(private.parse().unwrap()), "{private}");
    }
    for public in ["93.184.216.34", "2606:4700::1111"] {
        assert!(is_public_ip(public.parse().unwrap()), "{public}");
    }
}
