//! The emails cartlink sends: the invite, the two confirmations, and the failure notice.
//!
//! Each email is written once, as a list of [`Block`]s, and rendered twice: to the text part
//! and to the HTML part. So both parts say the same by construction (a test holds them to the
//! same words). Every value is escaped in HTML (maud escapes by default); every link is one the
//! caller built from the configured base URL; the HTML is one fluid column with inline styles
//! (mail clients ignore style sheets), no images and no external resources, and long links wrap,
//! so it reads well in a narrow mail client.

use maud::{html, Markup, DOCTYPE};

use crate::domain::{AccessCode, Function, Invite, Timestamp};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

/// A piece of running text.
enum Inline {
    /// Plain words.
    Text(String),
    /// Words that stand out (names).
    Strong(String),
    /// A URL, shown as itself (and a link in HTML).
    Link(String),
}

/// A block of an email.
enum Block {
    /// A paragraph.
    Para(Vec<Inline>),
    /// A bulleted list.
    List(Vec<String>),
    /// The email's one action: a button in HTML, the label and the URL in text. The URL is
    /// printed in both, for clients that show no buttons.
    Action {
        /// What pressing it does.
        label: String,
        /// Where it goes.
        url: String,
    },
    /// A code to type, set large.
    Code(String),
    /// Label and value pairs.
    Facts(Vec<(&'static str, String)>),
    /// A quieter paragraph.
    Note(Vec<Inline>),
}

fn t(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

fn b(s: impl Into<String>) -> Inline {
    Inline::Strong(s.into())
}

fn para(parts: Vec<Inline>) -> Block {
    Block::Para(parts)
}

fn inline_text(parts: &[Inline]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Text(s) | Inline::Strong(s) | Inline::Link(s) => s.as_str(),
        })
        .collect()
}

fn to_text(blocks: &[Block]) -> String {
    let mut out = Vec::new();
    for block in blocks {
        out.push(match block {
            Block::Para(p) | Block::Note(p) => inline_text(p),
            Block::List(items) => items
                .iter()
                .map(|i| format!("  - {i}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Action { label, url } => format!("{label}:\n{url}"),
            Block::Code(code) => format!("    {code}"),
            Block::Facts(facts) => facts
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    let mut text = out.join("\n\n");
    text.push('\n');
    text
}

/// The word mark above the HTML part's card (the text part has no letterhead).
const BRAND: &str = "cartlink";

const LINK: &str = "color:#1f5fbf;word-break:break-all;overflow-wrap:anywhere";

fn inline_html(parts: &[Inline]) -> Markup {
    html! {
        @for p in parts {
            @match p {
                Inline::Text(s) => (s),
                Inline::Strong(s) => strong { (s) },
                Inline::Link(u) => a href=(u) style=(LINK) { (u) },
            }
        }
    }
}

fn block_html(block: &Block) -> Markup {
    html! {
        @match block {
            Block::Para(p) => p style="margin:0 0 16px" { (inline_html(p)) },
            Block::Note(p) => p style="margin:0 0 16px;color:#4a5361;font-size:14px" { (inline_html(p)) },
            Block::List(items) => ul style="margin:0 0 16px;padding-left:22px" {
                @for i in items { li style="margin:0 0 6px" { (i) } }
            },
            Block::Action { label, url } => div style="margin:24px 0" {
                a href=(url) style="display:inline-block;background:#1f5fbf;color:#ffffff;text-decoration:none;padding:12px 22px;border-radius:6px;font-weight:600;font-size:16px" {
                    (label)
                }
                p style="margin:12px 0 0;font-size:13px;color:#4a5361" {
                    a href=(url) style=(LINK) { (url) }
                }
            },
            Block::Code(code) => p style="margin:0 0 16px;font-family:Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:22px;letter-spacing:2px;font-weight:700" {
                (code)
            },
            Block::Facts(facts) => table role="presentation" style="border-collapse:collapse;margin:0 0 16px" {
                @for (k, v) in facts {
                    tr {
                        td style="padding:2px 14px 2px 0;color:#4a5361;vertical-align:top" { (k) }
                        td style="padding:2px 0;word-break:break-all" { (v) }
                    }
                }
            },
        }
    }
}

fn to_html(title: &str, blocks: &[Block]) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
            }
            body style="margin:0;padding:0;background:#eef1f5;color:#1d2430;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5" {
                div style="padding:16px 12px" {
                    div style="max-width:560px;margin:0 auto" {
                        p style="margin:0 0 10px;font-weight:700;font-size:17px;color:#1f5fbf" { (BRAND) }
                        div style="background:#ffffff;border:1px solid #dde2ea;border-radius:10px;padding:22px 20px" {
                            @for block in blocks { (block_html(block)) }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}

fn build(
    to: &str,
    subject: &str,
    blocks: &[Block],
    invite: &Invite,
    kind: EmailKind,
) -> Result<OutgoingEmail, MailError> {
    OutgoingEmail::new(
        to,
        subject,
        to_text(blocks),
        to_html(subject, blocks),
        vec![
            ("invite-id".into(), invite.id.to_string()),
            ("kind".into(), kind.as_str().into()),
        ],
    )
}

fn greeting(invite: &Invite) -> Block {
    para(vec![t(match &invite.merchant_name {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_owned(),
    })])
}

fn plain_words(functions: &[Function]) -> Vec<String> {
    functions
        .iter()
        .map(|f| f.plain_words().to_owned())
        .collect()
}

fn on_behalf(warehouse: &str) -> Block {
    Block::Note(vec![t(format!(
        "cartlink sent this email on behalf of {warehouse}, and never asks for your password."
    ))])
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
    let warehouse = invite.warehouse.display_name.as_str();
    let subject = format!("{warehouse} asks for access to your {cart_name} store");
    let blocks = [
        greeting(invite),
        para(vec![
            b(warehouse),
            t(" fulfils orders for your store and asks for access to your "),
            b(cart_name),
            t(" store, so that it can:"),
        ]),
        Block::List(plain_words(&invite.functions)),
        Block::Action {
            label: "Review and grant access".into(),
            url: setup_url.into(),
        },
        para(vec![t(format!(
            "You sign in at {cart_name} itself: neither cartlink nor {warehouse} ever sees your password."
        ))]),
        para(vec![
            t("If the link does not open, go to "),
            Inline::Link(setup_page_url.into()),
            t(" and type this access code:"),
        ]),
        Block::Code(code.display()),
        para(vec![t(format!(
            "The link and code work until {}.",
            invite.expires_at.human()
        ))]),
        Block::Note(vec![t(
            "If you did not expect this, ignore this email: nothing changes until you grant access.",
        )]),
        on_behalf(warehouse),
    ];
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::Invite,
    )
}

/// "You connected your store", to the merchant.
pub fn merchant_confirmation(
    invite: &Invite,
    cart_name: &str,
    connected_at: Timestamp,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let subject = format!("You gave {warehouse} access to your {cart_name} store");
    let blocks = [
        greeting(invite),
        para(vec![
            t(format!("On {} you gave ", connected_at.human())),
            b(warehouse),
            t(" access to your "),
            b(cart_name),
            t(" store, so that it can:"),
        ]),
        Block::List(plain_words(&invite.functions)),
        para(vec![t(format!(
            "You can withdraw this access at any time in your {cart_name} admin, where \
             {warehouse} is listed among your apps."
        ))]),
        Block::Note(vec![t(format!(
            "If this was not you, withdraw the access there and tell {warehouse}."
        ))]),
        on_behalf(warehouse),
    ];
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::MerchantConfirmation,
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
    let mut facts = vec![("Invite", invite.id.to_string())];
    if let Some(a) = account {
        facts.push(("Account", a.to_owned()));
    }
    facts.push((
        "Functions",
        invite
            .functions
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    let blocks = [
        para(vec![
            b(merchant),
            t(format!(
                " ({}) granted access to their {cart_name} store on {}.",
                invite.merchant_email,
                connected_at.human()
            )),
        ]),
        Block::Facts(facts),
        para(vec![t(
            "The connection is ready: your backend can now use it through cartlink.",
        )]),
        Block::Note(vec![t("Sent by cartlink.")]),
    ];
    build(
        &invite.warehouse.notify_email,
        &subject,
        &blocks,
        invite,
        EmailKind::WarehouseConfirmation,
    )
}

/// "Connecting your store did not complete", to the merchant, when a grant fails at the cart
/// or in the code exchange (not when they declined). `retry_url` is a fresh setup link; without
/// one (the invite can no longer be granted) the email says whom to ask.
pub fn grant_failed_email(
    invite: &Invite,
    cart_name: &str,
    retry_url: Option<&str>,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let subject = format!("Connecting your {cart_name} store to {warehouse} did not complete");
    let mut blocks = vec![
        greeting(invite),
        para(vec![
            t("You started to give "),
            b(warehouse),
            t(" access to your "),
            b(cart_name),
            t(format!(
                " store, but the connection did not complete: {cart_name} did not finish the \
                 sign-in. Nothing was shared."
            )),
        ]),
    ];
    match retry_url {
        Some(url) => {
            blocks.push(Block::Action {
                label: "Try again".into(),
                url: url.into(),
            });
            blocks.push(para(vec![t(format!(
                "The link works until {}. You sign in at {cart_name} itself: neither cartlink \
                 nor {warehouse} ever sees your password.",
                invite.expires_at.human()
            ))]));
        }
        None => blocks.push(para(vec![t(format!(
            "This invitation can no longer be used: ask {warehouse} for a new link."
        ))])),
    }
    blocks.push(Block::Note(vec![t(
        "If you did not start this, ignore this email: nothing changes until you grant access.",
    )]));
    blocks.push(on_behalf(warehouse));
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::GrantFailed,
    )
}

/// "A connection needs re-authorization", to the warehouse: the cart refused the connection's
/// refresh token (revoked, expired or uninstalled), so cartlink can no longer get access tokens
/// for it; a new invite lets the merchant grant access again.
pub fn reauthorization_needed(
    invite: &Invite,
    cart_name: &str,
    connection: &str,
) -> Result<OutgoingEmail, MailError> {
    let merchant = invite
        .merchant_name
        .as_deref()
        .unwrap_or(&invite.merchant_email);
    let subject = format!("{merchant}'s {cart_name} connection needs to be granted again");
    let blocks = [
        para(vec![
            t(format!("{cart_name} no longer accepts the access that ")),
            b(merchant),
            t(format!(
                " ({}) granted: it was withdrawn at {cart_name}, or it expired.",
                invite.merchant_email
            )),
        ]),
        Block::Facts(vec![
            ("Invite", invite.id.to_string()),
            ("Connection", connection.to_owned()),
        ]),
        para(vec![t(
            "To keep working with this store, create a new invite for the merchant: they grant              access again in a minute, without sharing a password.",
        )]),
        Block::Note(vec![t("Sent by cartlink, once per connection.")]),
    ];
    build(
        &invite.warehouse.notify_email,
        &subject,
        &blocks,
        invite,
        EmailKind::ReauthorizationNeeded,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CartId;
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
            merchant_confirmation(inv, "Cart", Timestamp(0)).unwrap(),
            warehouse_confirmation(inv, "Cart", Timestamp(0), Some("<b>acct</b>")).unwrap(),
            grant_failed_email(inv, "Cart", Some("http://x.test/setup/R")).unwrap(),
            grant_failed_email(inv, "Cart", None).unwrap(),
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
        assert!(merchant_confirmation(&inv, "Cart", Timestamp(0)).is_err());
        assert!(grant_failed_email(&inv, "Cart", None).is_err());
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
