//! The emails: what each says, the same words in both parts, and nothing a sender could inject.

use super::render::BRAND;
use super::*;
use crate::domain::{CartId, Function};
use crate::domain::{InviteId, InviteStatus, TokenHash, WarehouseId, WarehouseRef};

fn invite(warehouse_name: &str, merchant_name: Option<&str>) -> Invite {
    Invite {
        app: None,
        version: 0,
        id: InviteId::generate(),
        warehouse: WarehouseRef {
            id: WarehouseId::parse("wh-1").unwrap(),
            display_name: warehouse_name.into(),
            notify_email: "ops@wh.test".into(),
            brand: Default::default(),
        },
        cart: CartId::new("sandbox"),
        merchant_email: "m@shop.test".into(),
        merchant_name: merchant_name.map(Into::into),
        store: None,
        functions: vec![Function::Orders, Function::Shipments],
        status: InviteStatus::Pending,
        status_reason: None,
        access_code_hash: TokenHash::of("x"),
        access_code_hint: "…0000".into(),
        resends: 0,
        reconnects: None,
        locale: Default::default(),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
        expires_at: Timestamp(1_796_083_200),
    }
}

fn every_email(inv: &Invite) -> Vec<OutgoingEmail> {
    vec![
        invite_email(
            inv,
            "Cart",
            "http://x.test/setup/T",
            "http://x.test/setup",
            &AccessCode::generate(),
        )
        .unwrap(),
        merchant_confirmation(inv, "Cart", Timestamp(0), Some("http://x.test/manage/M")).unwrap(),
        warehouse_confirmation(inv, "Cart", Timestamp(0), Some("<b>acct</b>")).unwrap(),
        grant_failed_email(inv, "Cart", Some("http://x.test/setup/R")).unwrap(),
        grant_failed_email(inv, "Cart", None).unwrap(),
        disconnected_email(inv, "Cart", Timestamp(0), true).unwrap(),
        disconnected_email(inv, "Cart", Timestamp(0), false).unwrap(),
        merchant_confirmation(inv, "Cart", Timestamp(0), None).unwrap(),
        withdrawn_receipt_email(inv, "Cart", Timestamp(0), true).unwrap(),
        withdrawn_receipt_email(inv, "Cart", Timestamp(0), false).unwrap(),
        access_withdrawn_email(inv, "Cart", "con-1", Timestamp(0)).unwrap(),
        reconnect_invite_email(
            inv,
            "Cart",
            "http://x.test/setup/T",
            "http://x.test/setup",
            &AccessCode::generate(),
            None,
        )
        .unwrap(),
        reconnect_invite_email(
            inv,
            "Cart",
            "http://x.test/setup/T",
            "http://x.test/setup",
            &AccessCode::generate(),
            Some(Timestamp(1_800_000_000)),
        )
        .unwrap(),
    ]
}

/// The words a reader sees in an HTML part's card: tags dropped, entities decoded, the
/// letterhead above the card left out.
fn visible_words(html: &str) -> Vec<String> {
    let body = &html[html.find("<body").unwrap()..];
    let letterhead = format!(">{BRAND}</p>");
    assert!(body.contains(&letterhead));
    let body = body.replacen(&letterhead, ">", 1);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    words(&text)
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_invite_names_who_asks_the_link_the_code_and_the_expiry_in_both_parts() {
    // GIVEN an invite
    let inv = invite("Acme Fulfilment", Some("Zoë"));
    let code = AccessCode::parse("ABCDE-FGH12").unwrap();
    // WHEN its email is built
    let mail = invite_email(
        &inv,
        "Sandbox Cart",
        "http://x.test/setup/TOKEN",
        "http://x.test/setup",
        &code,
    )
    .unwrap();
    // THEN subject, text and HTML all carry the facts
    assert_eq!(
        mail.subject,
        "Acme Fulfilment asks for access to your Sandbox Cart store"
    );
    for part in [&mail.text, &mail.html] {
        for needle in [
            "Acme Fulfilment",
            "Sandbox Cart",
            "http://x.test/setup/TOKEN",
            "ABCDE-FGH12",
            "1 December 2026",
            "read your orders",
            "ever sees your password",
        ] {
            assert!(part.contains(needle), "{needle} missing");
        }
    }
    assert_eq!(mail.to, "m@shop.test");
}

#[test]
fn text_and_html_parts_say_the_same_words() {
    // GIVEN every email, with names that hold markup and non-ASCII
    let inv = invite("Acme & <Sons>", Some("Zoë \"Z\" O'Neil"));
    for mail in every_email(&inv) {
        // THEN the words of the text part are exactly the words a reader sees in the HTML
        assert_eq!(
            words(&mail.text),
            visible_words(&mail.html),
            "{}",
            mail.subject
        );
        // AND the text part holds no markup of ours (values stay as they were given)
        for tag in ["<p", "<strong", "<a ", "<li", "<td", "href="] {
            assert!(!mail.text.contains(tag), "{tag} in {}", mail.subject);
        }
    }
}

#[test]
fn warehouse_supplied_text_is_escaped_in_html() {
    // GIVEN a warehouse name and merchant name that hold markup
    let inv = invite(
        "<a href=\"https://evil.example\">Click</a>",
        Some("<script>x</script>"),
    );
    // WHEN the emails are built
    for m in every_email(&inv) {
        // THEN no HTML part holds the markup, only its escaped text
        assert!(!m.html.contains("<a href=\"https://evil.example\""));
        assert!(!m.html.contains("<script>"));
        assert!(!m.html.contains("<b>acct"));
        assert!(m.html.contains("&lt;"));
        // AND every link goes to our origin, and nothing is loaded from anywhere
        for href in m.html.split("href=\"").skip(1) {
            assert!(href.starts_with("http://x.test/"), "{href}");
        }
        assert!(!m.html.contains("src="));
        assert!(!m.html.contains("<link"));
        assert!(!m.html.contains("url("));
    }
}

#[test]
fn a_hostile_warehouse_name_is_written_as_text_in_every_email() {
    for name in crate::testing::HOSTILE_TEXTS {
        // GIVEN an invite from a warehouse whose name is markup
        let inv = invite(name, None);
        // WHEN every email is built
        for m in every_email(&inv) {
            // THEN where its text part names the warehouse, its HTML part shows the name escaped
            let escaped = maud::html! { (name) }.into_string();
            if m.text.contains(name) {
                assert!(m.html.contains(&escaped), "{name}: shown in {}", m.subject);
            }
            // AND never as markup
            assert!(!m.html.contains(name), "{name}: unescaped in {}", m.subject);
            assert!(!m.html.contains("<script"), "{name}: {}", m.subject);
        }
    }
}

#[test]
fn the_failure_email_offers_a_retry_link_or_says_whom_to_ask() {
    let inv = invite("Acme Fulfilment", None);
    let with = grant_failed_email(&inv, "Sandbox Cart", Some("http://x.test/setup/R")).unwrap();
    assert_eq!(
        with.subject,
        "Connecting your Sandbox Cart store to Acme Fulfilment did not complete"
    );
    assert_eq!(with.to, "m@shop.test");
    for part in [&with.text, &with.html] {
        for needle in [
            "Try again",
            "http://x.test/setup/R",
            "Nothing was shared",
            "1 December 2026",
        ] {
            assert!(part.contains(needle), "{needle} missing");
        }
    }
    assert!(with
        .tags
        .contains(&("kind".to_owned(), "grant_failed".to_owned())));
    let without = grant_failed_email(&inv, "Sandbox Cart", None).unwrap();
    assert!(without.text.contains("ask Acme Fulfilment for a new link"));
    assert!(!without.html.contains("href="));
}

#[test]
fn a_subject_cannot_carry_a_header() {
    let inv = invite("Acme\r\nBcc: x@evil.test", None);
    assert!(merchant_confirmation(&inv, "Cart", Timestamp(0), None).is_err());
    assert!(grant_failed_email(&inv, "Cart", None).is_err());
}

#[test]
fn confirmations_go_one_to_the_merchant_and_one_to_the_warehouse() {
    let inv = invite("Acme", None);
    assert_eq!(
        merchant_confirmation(&inv, "Cart", Timestamp(0), None)
            .unwrap()
            .to,
        "m@shop.test"
    );
    let wh = warehouse_confirmation(&inv, "Cart", Timestamp(0), Some("shop-1")).unwrap();
    assert_eq!(wh.to, "ops@wh.test");
    assert!(wh.text.contains("shop-1") && wh.html.contains("shop-1"));
}

#[test]
fn the_disconnected_email_says_who_lost_access_and_what_the_cart_was_told() {
    // GIVEN a store the warehouse disconnected, at a cart that took the revocation and at one
    // that offers none
    let inv = invite("Acme 3PL", Some("Zoë"));
    let told = disconnected_email(&inv, "Cart", Timestamp(1_796_083_200), true).unwrap();
    let untold = disconnected_email(&inv, "Cart", Timestamp(1_796_083_200), false).unwrap();
    // THEN it goes to the merchant, says who no longer has access and when, in both parts
    assert_eq!(told.to, "m@shop.test");
    assert_eq!(
        told.subject,
        "Acme 3PL no longer has access to your Cart store"
    );
    for part in [&told.text, &told.html] {
        assert!(part.contains("disconnected your"), "{part}");
        assert!(part.contains("deleted from cartlink"), "{part}");
    }
    assert!(told.text.contains(&Timestamp(1_796_083_200).human()));
    // AND it says the cart was told only where it was; else how to remove the app there
    assert!(told.text.contains("Cart was told to end the access too."));
    assert!(!untold.text.contains("was told"));
    assert!(untold
        .text
        .contains("remove the app from your Cart account"));
}

#[test]
fn the_reconnect_invite_says_it_renews_the_existing_connection() {
    // GIVEN a re-authorization invite
    let inv = invite("Acme 3PL", Some("Zoë"));
    let code = AccessCode::generate();
    let mail = reconnect_invite_email(
        &inv,
        "Cart",
        "http://x.test/setup/T",
        "http://x.test/setup",
        &code,
        None,
    )
    .unwrap();
    // THEN it goes to the merchant and says it renews, not starts, a connection
    assert_eq!(mail.to, "m@shop.test");
    assert_eq!(mail.subject, "Renew Acme 3PL's access to your Cart store");
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("needs to be renewed"), "{part}");
        assert!(part.contains("keeps the existing connection"), "{part}");
        assert!(part.contains("Review and renew access"), "{part}");
    }
    // AND it carries the link, the access code, the functions and the expiry like an invite
    assert!(mail.text.contains("http://x.test/setup/T"));
    assert!(mail.text.contains(&code.display()));
    assert!(mail.text.contains(&crate::i18n::function_words(
        crate::domain::Locale::En,
        Function::Orders
    )));
    assert!(mail.text.contains(&inv.expires_at.human()));
}

#[test]
fn a_reconnect_invite_ahead_of_a_deadline_says_when_the_access_ends_and_nothing_false() {
    // GIVEN a re-authorization invite sent by proactive care, the grant ending at a deadline
    let inv = invite("Acme 3PL", Some("Zoë"));
    let deadline = Timestamp(1_800_000_000);
    let mail = reconnect_invite_email(
        &inv,
        "Cart",
        "http://x.test/setup/T",
        "http://x.test/setup",
        &AccessCode::generate(),
        Some(deadline),
    )
    .unwrap();
    // THEN it names the day the access ends and why, and does not say the cart refused it or
    // the warehouse asked (neither is true then)
    let date = crate::i18n::date(inv.locale, deadline);
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("ends on") && part.contains(&date), "{part}");
        assert!(part.contains("renew it at fixed times"), "{part}");
        assert!(!part.contains("no longer accepts"), "{part}");
        assert!(!part.contains("asked to renew"), "{part}");
    }
}
