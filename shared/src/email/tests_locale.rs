//! The merchant's emails in the invite's language; the warehouse's in English.

use super::*;
use crate::domain::{
    CartId, Function, InviteId, InviteStatus, TokenHash, WarehouseId, WarehouseRef,
};

fn invite_in(locale: Locale) -> Invite {
    Invite {
        app: None,
        version: 0,
        id: InviteId::generate(),
        warehouse: WarehouseRef {
            id: WarehouseId::parse("wh-1").unwrap(),
            display_name: "Nordlager".into(),
            notify_email: "ops@wh.test".into(),
            brand: Default::default(),
        },
        cart: CartId::new("sandbox"),
        merchant_email: "m@shop.test".into(),
        merchant_name: Some("Zoë".into()),
        store: None,
        functions: vec![Function::Orders],
        status: InviteStatus::Pending,
        status_reason: None,
        access_code_hash: TokenHash::of("x"),
        access_code_hint: "…0000".into(),
        resends: 0,
        reconnects: None,
        locale,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
        expires_at: Timestamp(1_796_083_200),
    }
}

#[test]
fn the_invite_email_is_written_in_the_invites_language() {
    for locale in Locale::ALL {
        // GIVEN an invite with that locale
        let inv = invite_in(locale);
        // WHEN its email is built
        let mail = invite_email(
            &inv,
            "Shopify",
            "https://x.test/setup/T",
            "https://x.test/setup",
            &AccessCode::generate(),
        )
        .unwrap();
        // THEN subject, greeting, functions, button and expiry are that language's, whole
        let names = [("warehouse", "Nordlager"), ("cart", "Shopify")];
        assert_eq!(
            mail.subject,
            i18n::text(locale, "email.invite.subject", &names)
        );
        assert!(mail
            .html
            .contains(&format!("<html lang=\"{}\">", locale.as_str())));
        for needle in [
            i18n::text(locale, "email.greeting_named", &[("name", "Zoë")]),
            i18n::function_words(locale, Function::Orders),
            i18n::text(locale, "email.invite.action", &[]),
            i18n::text(
                locale,
                "email.works_until",
                &[("date", &i18n::date(locale, inv.expires_at))],
            ),
        ] {
            assert!(mail.text.contains(&needle), "{}: {needle}", locale.as_str());
        }
    }
}

#[test]
fn the_warehouse_reads_its_emails_in_english_whatever_the_merchants_language() {
    // GIVEN a Japanese merchant's invite
    let inv = invite_in(Locale::Ja);
    // WHEN the warehouse's confirmation is built
    let mail = warehouse_confirmation(&inv, "Shopify", Timestamp(0), None).unwrap();
    // THEN it is in English
    assert!(mail.html.contains("<html lang=\"en\">"));
    assert!(mail.subject.ends_with("connected their Shopify store"));
}
