//! The emails cartlink sends: the invite, the two confirmations, the failure notice and the
//! re-authorization notice.
//!
//! Each email is written once, as a list of blocks, and rendered twice (`render`): to the text
//! part and to the HTML part. So both parts say the same by construction (a test holds them to
//! the same words). Every value is escaped in HTML (maud escapes by default); every link is one
//! the caller built from the configured base URL.

mod fleet;
mod manage;
mod render;

pub use fleet::{disconnected_email, reconnect_invite_email};
pub use manage::{access_withdrawn_email, withdrawn_receipt_email};

use render::{b, para, t, to_html, to_text, Block, Inline};

use crate::domain::{AccessCode, Function, Invite, Timestamp};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

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

/// What every email carrying a setup link says under its button: who sees the password, the
/// access-code page with the code, and until when both work.
fn sign_in_and_code(
    invite: &Invite,
    cart_name: &str,
    setup_page_url: &str,
    code: &AccessCode,
) -> [Block; 4] {
    let warehouse = invite.warehouse.display_name.as_str();
    [
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
    ]
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
    let mut blocks = vec![
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
    ];
    blocks.extend(sign_in_and_code(invite, cart_name, setup_page_url, code));
    blocks.extend([
        Block::Note(vec![t(
            "If you did not expect this, ignore this email: nothing changes until you grant access.",
        )]),
        on_behalf(warehouse),
    ]);
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::Invite,
    )
}

/// "You connected your store", to the merchant, with the "Manage this connection" link
/// (`manage_url`) where one was issued.
pub fn merchant_confirmation(
    invite: &Invite,
    cart_name: &str,
    connected_at: Timestamp,
    manage_url: Option<&str>,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let subject = format!("You gave {warehouse} access to your {cart_name} store");
    let mut blocks = vec![
        greeting(invite),
        para(vec![
            t(format!("On {} you gave ", connected_at.human())),
            b(warehouse),
            t(" access to your "),
            b(cart_name),
            t(" store, so that it can:"),
        ]),
        Block::List(plain_words(&invite.functions)),
    ];
    match manage_url {
        Some(url) => blocks.extend([
            Block::Action {
                label: "Manage this connection".into(),
                url: url.into(),
            },
            para(vec![t(format!(
                "That page shows what {warehouse} can do and when it last used the access, \
                 and lets you withdraw it at any time. The link is yours alone: keep this \
                 email, and do not forward it."
            ))]),
            Block::Note(vec![t(format!(
                "If this was not you, withdraw the access there and tell {warehouse}."
            ))]),
        ]),
        None => blocks.extend([
            para(vec![t(format!(
                "You can withdraw this access at any time in your {cart_name} admin, where \
                 {warehouse} is listed among your apps."
            ))]),
            Block::Note(vec![t(format!(
                "If this was not you, withdraw the access there and tell {warehouse}."
            ))]),
        ]),
    }
    blocks.push(on_behalf(warehouse));
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
mod tests;
