//! The emails cartlink sends, each with a text and an HTML part that say the same. Every value
//! is escaped (maud escapes by default), and every link is built from the configured base URL.

use maud::{html, Markup, DOCTYPE};

use crate::domain::{AccessCode, Function, Invite, Timestamp};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

fn tags(invite: &Invite, kind: EmailKind) -> Vec<(String, String)> {
    vec![
        ("invite-id".into(), invite.id.to_string()),
        ("kind".into(), kind.as_str().into()),
    ]
}

fn layout(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
            }
            body style="margin:0;padding:16px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2430;line-height:1.5" {
                div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px" {
                    (body)
                }
                p style="max-width:560px;margin:12px auto;font-size:12px;color:#5b6472" {
                    "Sent by cartlink on behalf of the warehouse named above. cartlink never asks for your password."
                }
            }
        }
    }
    .into_string()
}

fn greeting(invite: &Invite) -> String {
    match &invite.merchant_name {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_owned(),
    }
}

/// The invite: who asks, for which cart, the link, the access code, the expiry and what
/// granting means.
pub fn invite_email(
    invite: &Invite,
    cart_name: &str,
    setup_url: &str,
    setup_page_url: &str,
    code: &AccessCode,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = &invite.warehouse.display_name;
    let subject = format!("{warehouse} asks for access to your {cart_name} store");
    let expiry = invite.expires_at.human();
    let functions: Vec<&str> = invite.functions.iter().map(|f| f.plain_words()).collect();
    let mut text = format!(
        "{greeting}\n\n{warehouse} fulfils orders for your store and asks for access to your \
         {cart_name} store, so that it can:\n",
        greeting = greeting(invite)
    );
    for f in &functions {
        text.push_str(&format!("  - {f}\n"));
    }
    text.push_str(&format!(
        "\nTo grant access, open this link:\n{setup_url}\n\n\
         You sign in at {cart_name} itself: neither cartlink nor {warehouse} ever sees your password.\n\n\
         If the link does not open, go to {setup_page_url} and type this access code:\n{code}\n\n\
         The link and code work until {expiry}.\n\
         If you did not expect this, ignore this email: nothing changes until you grant access.\n",
        code = code.display()
    ));
    let html = layout(
        &subject,
        html! {
            p { (greeting(invite)) }
            p { strong { (warehouse) } " fulfils orders for your store and asks for access to your " strong { (cart_name) } " store, so that it can:" }
            ul { @for f in &functions { li { (f) } } }
            p style="margin:24px 0" {
                a href=(setup_url) style="display:inline-block;background:#1f5fbf;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600" {
                    "Review and grant access"
                }
            }
            p { "You sign in at " (cart_name) " itself: neither cartlink nor " (warehouse) " ever sees your password." }
            p {
                "If the button does not work, go to " a href=(setup_page_url) { (setup_page_url) }
                " and type this access code:"
            }
            p style="font-family:Menlo,Consolas,monospace;font-size:20px;letter-spacing:2px" { (code.display()) }
            p { "The link and code work until " (expiry) "." }
            p style="color:#5b6472" { "If you did not expect this, ignore this email: nothing changes until you grant access." }
        },
    );
    OutgoingEmail::new(
        &invite.merchant_email,
        &subject,
        text,
        html,
        tags(invite, EmailKind::Invite),
    )
}

fn function_list(functions: &[Function]) -> String {
    functions
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// "You connected your store", to the merchant.
pub fn merchant_confirmation(
    invite: &Invite,
    cart_name: &str,
    connected_at: Timestamp,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = &invite.warehouse.display_name;
    let subject = format!("You gave {warehouse} access to your {cart_name} store");
    let when = connected_at.human();
    let text = format!(
        "{greeting}\n\nOn {when} you gave {warehouse} access to your {cart_name} store for: {functions}.\n\n\
         You can withdraw this access at any time in your {cart_name} admin, where {warehouse} \
         is listed among your apps.\n\nIf this was not you, withdraw the access there and tell {warehouse}.\n",
        greeting = greeting(invite),
        functions = function_list(&invite.functions),
    );
    let html = layout(
        &subject,
        html! {
            p { (greeting(invite)) }
            p { "On " (when) " you gave " strong { (warehouse) } " access to your " strong { (cart_name) } " store for: " (function_list(&invite.functions)) "." }
            p { "You can withdraw this access at any time in your " (cart_name) " admin, where " (warehouse) " is listed among your apps." }
            p { "If this was not you, withdraw the access there and tell " (warehouse) "." }
        },
    );
    OutgoingEmail::new(
        &invite.merchant_email,
        &subject,
        text,
        html,
        tags(invite, EmailKind::MerchantConfirmation),
    )
}

/// "The merchant connected their store", to the warehouse.
pub fn warehouse_confirmation(
    invite: &Invite,
    cart_name: &str,
    connected_at: Timestamp,
    account: Option<&str>,
) -> Result<OutgoingEmail, MailError> {
    let merchant = invite
        .merchant_name
        .as_deref()
        .unwrap_or(&invite.merchant_email);
    let subject = format!("{merchant} connected their {cart_name} store");
    let when = connected_at.human();
    let account_line = account
        .map(|a| format!("Account: {a}\n"))
        .unwrap_or_default();
    let text = format!(
        "{merchant} ({email}) granted access to their {cart_name} store on {when}.\n\n\
         Invite: {id}\n{account_line}Functions: {functions}\n\n\
         The connection is ready: your backend can now use it through cartlink.\n",
        email = invite.merchant_email,
        id = invite.id,
        functions = function_list(&invite.functions),
    );
    let html = layout(
        &subject,
        html! {
            p { strong { (merchant) } " (" (invite.merchant_email) ") granted access to their " (cart_name) " store on " (when) "." }
            table style="border-collapse:collapse" {
                tr { td style="padding:2px 12px 2px 0;color:#5b6472" { "Invite" } td { code { (invite.id) } } }
                @if let Some(a) = account { tr { td style="padding:2px 12px 2px 0;color:#5b6472" { "Account" } td { (a) } } }
                tr { td style="padding:2px 12px 2px 0;color:#5b6472" { "Functions" } td { (function_list(&invite.functions)) } }
            }
            p { "The connection is ready: your backend can now use it through cartlink." }
        },
    );
    OutgoingEmail::new(
        &invite.warehouse.notify_email,
        &subject,
        text,
        html,
        tags(invite, EmailKind::WarehouseConfirmation),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carts::CartId;
    use crate::domain::{InviteId, InviteStatus, TokenHash, WarehouseId, WarehouseRef};

    fn invite(warehouse_name: &str, merchant_name: Option<&str>) -> Invite {
        Invite {
            id: InviteId::generate(),
            warehouse: WarehouseRef {
                id: WarehouseId::parse("wh-1").unwrap(),
                display_name: warehouse_name.into(),
                notify_email: "ops@wh.test".into(),
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
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            expires_at: Timestamp(1_796_083_200),
        }
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
    fn warehouse_supplied_text_is_escaped_in_html() {
        // GIVEN a warehouse name and merchant name that hold markup
        let inv = invite(
            "<a href=\"https://evil.example\">Click</a>",
            Some("<script>x</script>"),
        );
        let code = AccessCode::generate();
        // WHEN the emails are built
        let mails = [
            invite_email(
                &inv,
                "Cart",
                "http://x.test/setup/T",
                "http://x.test/setup",
                &code,
            )
            .unwrap(),
            merchant_confirmation(&inv, "Cart", Timestamp(0)).unwrap(),
            warehouse_confirmation(&inv, "Cart", Timestamp(0), Some("<b>acct</b>")).unwrap(),
        ];
        // THEN no HTML part holds the markup, only its escaped text, and links go to our origin
        for m in &mails {
            assert!(!m.html.contains("<a href=\"https://evil.example\""));
            assert!(!m.html.contains("<script>"));
            assert!(!m.html.contains("<b>acct"));
            assert!(m.html.contains("&lt;"));
            assert!(!m.html.contains("href=\"https://evil"));
        }
    }

    #[test]
    fn a_subject_cannot_carry_a_header() {
        let inv = invite("Acme\r\nBcc: x@evil.test", None);
        assert!(merchant_confirmation(&inv, "Cart", Timestamp(0)).is_err());
    }

    #[test]
    fn confirmations_go_one_to_the_merchant_and_one_to_the_warehouse() {
        let inv = invite("Acme", None);
        assert_eq!(
            merchant_confirmation(&inv, "Cart", Timestamp(0))
                .unwrap()
                .to,
            "m@shop.test"
        );
        let wh = warehouse_confirmation(&inv, "Cart", Timestamp(0), Some("shop-1")).unwrap();
        assert_eq!(wh.to, "ops@wh.test");
        assert!(wh.text.contains("shop-1") && wh.html.contains("shop-1"));
    }
}
