use super::*;

#[test]
fn a_signature_matches_the_specification_s_published_example() {
    // GIVEN the secret, id, timestamp and body of the Standard Webhooks example
    let secret = WebhookSecret::from_bytes(Zeroizing::new(
        STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
    ));
    // WHEN it is signed
    let sig = secret.sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        r#"{"test": 2432232314}"#,
    );
    // THEN it is the example's signature
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

#[test]
fn a_secret_is_written_whsec_and_never_printed() {
    // GIVEN a new secret
    let secret = WebhookSecret::generate();
    // THEN it is written whsec_ + base64 of its 32 bytes
    let written = secret.written();
    assert!(written.starts_with(SECRET_PREFIX));
    assert_eq!(
        STANDARD.decode(&written[SECRET_PREFIX.len()..]).unwrap(),
        secret.bytes()
    );
    // AND its Debug form holds none of it
    assert_eq!(format!("{secret:?}"), "WebhookSecret(redacted)");
}

#[test]
fn every_type_reads_back_from_its_name() {
    for t in WebhookEventType::ALL {
        assert_eq!(WebhookEventType::parse(t.as_str()), Some(t));
        assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
    }
    assert_eq!(WebhookEventType::parse("invite"), None);
}

#[test]
fn an_authorization_through_a_reconnect_invite_is_a_reconnection() {
    let k = InviteEventKind::Authorized;
    assert_eq!(
        WebhookEventType::of_step(k, false),
        Some(WebhookEventType::ConnectionAuthorized)
    );
    assert_eq!(
        WebhookEventType::of_step(k, true),
        Some(WebhookEventType::ConnectionReconnected)
    );
    assert_eq!(
        WebhookEventType::of_step(InviteEventKind::GrantStarted, false),
        None
    );
}

#[test]
fn one_step_has_one_message_id_and_one_delivery_id_per_endpoint() {
    // GIVEN an invite's step and two endpoints
    let invite = InviteId::generate();
    let (a, b) = (EndpointId::generate(), EndpointId::generate());
    // WHEN the ids are made twice
    let m = message_id_of_step(&invite, "opened");
    // THEN they come out the same, and differ between steps and endpoints
    assert_eq!(m, message_id_of_step(&invite, "opened"));
    assert_ne!(m, message_id_of_step(&invite, "emailed"));
    assert!(m.starts_with("msg_") && m.len() == 30, "{m}");
    assert_eq!(DeliveryId::of(&m, &a), DeliveryId::of(&m, &a));
    assert_ne!(DeliveryId::of(&m, &a), DeliveryId::of(&m, &b));
}

fn secret(at: i64) -> EndpointSecret {
    EndpointSecret {
        sealed: SealedBlob {
            v: 1,
            key_id: "k".into(),
            edk: format!("edk{at}"),
            nonce: "n".into(),
            ct: "c".into(),
        },
        created_at: Timestamp(at),
        retires_at: None,
    }
}

fn endpoint(events: Vec<WebhookEventType>) -> WebhookEndpoint {
    WebhookEndpoint {
        id: EndpointId::generate(),
        warehouse: WarehouseId::parse("wh-a").unwrap(),
        url: "https://hooks.example.com/in".into(),
        events,
        secrets: vec![secret(0)],
        disabled: None,
        created_at: Timestamp(0),
        revision: 0,
    }
}

#[test]
fn after_a_rotation_both_secrets_sign_until_the_old_one_retires() {
    // GIVEN an endpoint with one secret, rotated at 100 with the old one retiring at 200
    let mut e = endpoint(vec![]);
    e.rotate(secret(100), Timestamp(200));
    // THEN both sign before 200, and only the new one from 200
    assert_eq!(e.signing_secrets(Timestamp(150)).count(), 2);
    let after: Vec<_> = e.signing_secrets(Timestamp(200)).collect();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].created_at, Timestamp(100));
}

#[test]
fn a_third_secret_drops_the_oldest() {
    // GIVEN two rotations
    let mut e = endpoint(vec![]);
    e.rotate(secret(100), Timestamp(200));
    e.rotate(secret(300), Timestamp(400));
    // THEN two secrets are kept: the one of 100 (retiring at 400) and the one of 300
    let kept: Vec<_> = e.secrets.iter().map(|s| s.created_at.0).collect();
    assert_eq!(kept, vec![100, 300]);
    assert_eq!(e.secrets[0].retires_at, Some(Timestamp(400)));
}

#[test]
fn an_endpoint_hears_its_types_and_tests_and_nothing_once_disabled() {
    let mut e = endpoint(vec![WebhookEventType::ConnectionAuthorized]);
    assert!(e.hears(WebhookEventType::ConnectionAuthorized));
    assert!(e.hears(WebhookEventType::Test));
    assert!(!e.hears(WebhookEventType::InviteCreated));
    assert!(endpoint(vec![]).hears(WebhookEventType::InviteCreated));
    e.disabled = Some(Disabled {
        at: Timestamp(1),
        reason: "gone".into(),
    });
    assert!(!e.hears(WebhookEventType::Test));
}

#[test]
fn the_default_schedule_keeps_trying_for_more_than_a_day() {
    let s = RetrySchedule::default();
    let total: u64 = s.0.iter().sum();
    assert!(total >= 24 * 3600, "{total}");
    assert_eq!(s.tries(), 8);
}

#[test]
fn a_wait_gets_at_most_ten_percent_jitter_and_the_last_try_has_none() {
    let s = RetrySchedule(vec![100, 1000]);
    assert_eq!(s.wait_after(1, 0), Some(100));
    assert_eq!(s.wait_after(1, 1000), Some(110));
    assert_eq!(s.wait_after(2, 500), Some(1050));
    assert_eq!(s.wait_after(3, 0), None);
    assert_eq!(s.wait_after(0, 0), None);
}

#[test]
fn a_schedule_is_read_from_seconds_and_refused_when_malformed() {
    assert_eq!(
        RetrySchedule::parse("0, 1,2").unwrap(),
        RetrySchedule(vec![0, 1, 2])
    );
    for bad in ["", "a", "1,,2", "-1", "90000"] {
        assert!(RetrySchedule::parse(bad).is_err(), "{bad}");
    }
}
