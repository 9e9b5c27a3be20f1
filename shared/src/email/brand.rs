//! A stored warehouse's brand in the emails to its merchants: replies go to its support
//! address, and the HTML part shows its logo (served from our origin) and its accent. Emails to
//! the warehouse itself keep cartlink's look.

use super::render::Letterhead;
use crate::domain::Invite;
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

/// Whether an email of `kind` goes to the merchant (every kind names its recipient here, so a
/// new kind must say).
pub(super) fn to_merchant(kind: EmailKind) -> bool {
    match kind {
        EmailKind::Invite
        | EmailKind::InviteResend(_)
        | EmailKind::MerchantConfirmation
        | EmailKind::GrantFailed
        | EmailKind::Disconnected
        | EmailKind::ReconnectInvite
        | EmailKind::ManageLink => true,
        EmailKind::WarehouseConfirmation
        | EmailKind::ReauthorizationNeeded
        | EmailKind::AccessWithdrawn
        | EmailKind::RevokedAtCart
        | EmailKind::ReauthorizationDue => false,
    }
}

/// The letterhead of an email of `kind` about `invite`.
pub(super) fn letterhead(invite: &Invite, kind: EmailKind) -> Letterhead<'_> {
    if !to_merchant(kind) {
        return Letterhead::default();
    }
    let w = &invite.warehouse;
    Letterhead {
        logo: w
            .brand
            .logo_url
            .as_deref()
            .map(|u| (u, w.display_name.as_str())),
        accent: w.brand.accent.as_deref(),
    }
}

/// `email` with the warehouse's support address as its Reply-To, when it goes to the merchant
/// and the warehouse has one.
pub(super) fn with_reply_to(
    email: OutgoingEmail,
    invite: &Invite,
    kind: EmailKind,
) -> Result<OutgoingEmail, MailError> {
    match &invite.warehouse.brand.support_email {
        Some(address) if to_merchant(kind) => email.with_reply_to(address),
        _ => Ok(email),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        AccessCode, Brand, CartId, Function, InviteId, InviteStatus, Timestamp, TokenHash,
        WarehouseId, WarehouseRef,
    };

    fn invite(brand: Brand) -> Invite {
        Invite {
            app: None,
            version: 0,
            locale: Default::default(),
            id: InviteId::generate(),
            warehouse: WarehouseRef {
                id: WarehouseId::parse("wh-1").unwrap(),
                display_name: "Acme Fulfilment".into(),
                notify_email: "ops@wh.test".into(),
                brand,
            },
            cart: CartId::new("sandbox"),
            merchant_email: "m@shop.test".into(),
            merchant_name: None,
            store: None,
            functions: vec![Function::Orders],
            status: InviteStatus::Pending,
            status_reason: None,
            access_code_hash: TokenHash::of("code"),
            access_code_hint: "…H12".into(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            expires_at: Timestamp(86_400),
            resends: 0,
            reconnects: None,
        }
    }

    fn branded() -> Brand {
        Brand {
            accent: Some("#1a4d8f".into()),
            support_email: Some("help@acme.test".into()),
            privacy_url: None,
            logo_url: Some("https://cartlink.test/brand/wh-1/logo.png?v=2".into()),
        }
    }

    fn invite_mail(inv: &Invite) -> OutgoingEmail {
        let code = AccessCode::parse("ABCDE-FGH12").unwrap();
        crate::email::invite_email(
            inv,
            "Sandbox",
            "https://x.test/setup/T",
            "https://x.test/setup",
            &code,
        )
        .unwrap()
    }

    #[test]
    fn an_email_to_the_merchant_replies_to_the_support_address_and_shows_logo_and_accent() {
        // GIVEN an invite of a branded warehouse
        let inv = invite(branded());
        // WHEN its email is built
        let mail = invite_mail(&inv);
        // THEN replies go to the support address, and the HTML shows the logo and the accent
        assert_eq!(mail.reply_to.as_deref(), Some("help@acme.test"));
        assert!(mail.html.contains(
            "src=\"https://cartlink.test/brand/wh-1/logo.png?v=2\" alt=\"Acme Fulfilment\""
        ));
        assert!(mail.html.contains("background:#1a4d8f"));
    }

    #[test]
    fn an_email_to_the_warehouse_and_an_unbranded_one_keep_cartlinks_look() {
        // GIVEN a branded invite's warehouse confirmation, and an unbranded invite's email
        let to_warehouse = crate::email::warehouse_confirmation(
            &invite(branded()),
            "Sandbox",
            Timestamp(10),
            None,
        )
        .unwrap();
        let plain = invite_mail(&invite(Brand::default()));
        // THEN neither has a Reply-To, a logo, or another button colour
        for mail in [&to_warehouse, &plain] {
            assert_eq!(mail.reply_to, None);
            assert!(!mail.html.contains("<img"));
            assert!(!mail.html.contains("#1a4d8f"));
        }
        assert!(plain.html.contains("background:#1f5fbf"));
    }

    #[test]
    fn every_merchant_kind_and_no_warehouse_kind_is_to_the_merchant() {
        // GIVEN every email kind  THEN exactly the merchant's are branded
        let merchant = [
            EmailKind::Invite,
            EmailKind::InviteResend(1),
            EmailKind::MerchantConfirmation,
            EmailKind::GrantFailed,
            EmailKind::Disconnected,
            EmailKind::ReconnectInvite,
        ];
        assert!(merchant.into_iter().all(to_merchant));
        assert!(!to_merchant(EmailKind::WarehouseConfirmation));
        assert!(!to_merchant(EmailKind::ReauthorizationNeeded));
    }
}
