//! The emails cartlink sends: the invite, the two confirmations, the failure notice and the
//! re-authorization notice.
//!
//! Each email is written once, as a list of blocks, and rendered twice (`render`): to the text
//! part and to the HTML part. So both parts say the same by construction (a test holds them to
//! the same words). Every value is escaped in HTML (maud escapes by default); every link is one
//! the caller built from the configured base URL.

mod brand;
mod care;
mod fleet;
mod lifecycle;
mod manage;
mod render;
mod webhook;

pub use care::reauthorization_due_email;
pub use fleet::{disconnected_email, reconnect_invite_email};
pub use lifecycle::revoked_at_cart_email;
pub use manage::{access_withdrawn_email, manage_link_email, withdrawn_receipt_email};
pub use webhook::endpoint_disabled_email;

use render::{b, para, t, to_html_with, to_text, Block, Inline};

use crate::domain::{AccessCode, Invite, Locale, Timestamp};
use crate::i18n::{self, Arg, Part};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

fn build(
    to: &str,
    subject: &str,
    blocks: &[Block],
    invite: &Invite,
    kind: EmailKind,
) -> Result<OutgoingEmail, MailError> {
    // The merchant reads their emails in the invite's language; the warehouse in English.
    let lang = if to == invite.merchant_email {
        invite.locale
    } else {
        Locale::En
    };
    let email = OutgoingEmail::new(
        to,
        subject,
        to_text(blocks),
        to_html_with(
            lang.as_str(),
            subject,
            blocks,
            &brand::letterhead(invite, kind),
        ),
        vec![
            ("invite-id".into(), invite.id.to_string()),
            ("kind".into(), kind.as_str().into()),
        ],
    )?;
    brand::with_reply_to(email, invite, kind)
}

/// A message of the catalog in the invite's language, as running text; the values marked
/// [`Arg::Strong`] stand out.
fn words(invite: &Invite, key: &str, args: &[(&str, Arg<'_>)]) -> Vec<Inline> {
    i18n::parts(invite.locale, key, args)
        .into_iter()
        .map(|p| match p {
            Part::Text(s) => Inline::Text(s),
            Part::Strong(s) => Inline::Strong(s),
        })
        .collect()
}

/// A message of the catalog in the invite's language, as plain text.
fn say(invite: &Invite, key: &str, args: &[(&str, &str)]) -> String {
    i18n::text(invite.locale, key, args)
}

/// A date in the invite's language.
fn when(invite: &Invite, at: Timestamp) -> String {
    i18n::date(invite.locale, at)
}

fn greeting(invite: &Invite) -> Block {
    para(vec![t(match &invite.merchant_name {
        Some(name) => say(invite, "email.greeting_named", &[("name", name)]),
        None => say(invite, "email.greeting", &[]),
    })])
}

fn plain_words(invite: &Invite) -> Vec<String> {
    invite
        .functions
        .iter()
        .map(|f| i18n::function_words(invite.locale, *f))
        .collect()
}

fn on_behalf(invite: &Invite) -> Block {
    let warehouse = invite.warehouse.display_name.as_str();
    Block::Note(vec![t(say(
        invite,
        "email.on_behalf",
        &[("warehouse", warehouse)],
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
    let until = when(invite, invite.expires_at);
    [
        para(vec![t(say(
            invite,
            "email.sign_in",
            &[("cart", cart_name), ("warehouse", warehouse)],
        ))]),
        para(
            i18n::parts(
                invite.locale,
                "email.if_link_fails",
                &[("url", Arg::Text(setup_page_url))],
            )
            .into_iter()
            .map(|p| match p {
                Part::Text(s) if s == setup_page_url => Inline::Link(s),
                Part::Text(s) | Part::Strong(s) => Inline::Text(s),
            })
            .collect(),
        ),
        Block::Code(code.display()),
        para(vec![t(say(
            invite,
            "email.works_until",
            &[("date", &until)],
        ))]),
    ]
}

/// The invite: who asks, for which cart, the link, the access code, the expiry and what
/// granting means; in the invite's language.
pub fn invite_email(
    invite: &Invite,
    cart_name: &str,
    setup_url: &str,
    setup_page_url: &str,
    code: &AccessCode,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let names = [("warehouse", warehouse), ("cart", cart_name)];
    let subject = say(invite, "email.invite.subject", &names);
    let mut blocks = vec![
        greeting(invite),
        para(words(
            invite,
            "email.invite.intro",
            &[
                ("warehouse", Arg::Strong(warehouse)),
                ("cart", Arg::Strong(cart_name)),
            ],
        )),
        Block::List(plain_words(invite)),
        Block::Action {
            label: say(invite, "email.invite.action", &[]),
            url: setup_url.into(),
        },
    ];
    blocks.extend(sign_in_and_code(invite, cart_name, setup_page_url, code));
    blocks.extend([
        Block::Note(vec![t(say(invite, "email.invite.ignore", &[]))]),
        on_behalf(invite),
    ]);
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::Invite,
    )
}

/// "You connected your store", to the merchant in the invite's language, with the "Manage
/// this connection" link (`manage_url`) where one was issued.
pub fn merchant_confirmation(
    invite: &Invite,
    cart_name: &str,
    connected_at: Timestamp,
    manage_url: Option<&str>,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let names = [("warehouse", warehouse), ("cart", cart_name)];
    let subject = say(invite, "email.confirmation.subject", &names);
    let date = when(invite, connected_at);
    let mut blocks = vec![
        greeting(invite),
        para(words(
            invite,
            "email.confirmation.intro",
            &[
                ("date", Arg::Text(&date)),
                ("warehouse", Arg::Strong(warehouse)),
                ("cart", Arg::Strong(cart_name)),
            ],
        )),
        Block::List(plain_words(invite)),
    ];
    match manage_url {
        Some(url) => blocks.extend([
            Block::Action {
                label: say(invite, "email.confirmation.manage", &[]),
                url: url.into(),
            },
            para(vec![t(say(
                invite,
                "email.confirmation.manage_text",
                &names,
            ))]),
        ]),
        None => blocks.push(para(vec![t(say(
            invite,
            "email.confirmation.at_cart",
            &names,
        ))])),
    }
    blocks.push(Block::Note(vec![t(say(
        invite,
        "email.confirmation.not_you",
        &names,
    ))]));
    blocks.push(on_behalf(invite));
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

/// "Connecting your store did not complete", to the merchant in the invite's language, when a
/// grant fails at the cart or in the code exchange (not when they declined). `retry_url` is a
/// fresh setup link; without one (the invite can no longer be granted) the email says whom to
/// ask.
pub fn grant_failed_email(
    invite: &Invite,
    cart_name: &str,
    retry_url: Option<&str>,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let names = [("warehouse", warehouse), ("cart", cart_name)];
    let subject = say(invite, "email.failed.subject", &names);
    let mut blocks = vec![
        greeting(invite),
        para(words(
            invite,
            "email.failed.intro",
            &[
                ("warehouse", Arg::Strong(warehouse)),
                ("cart", Arg::Strong(cart_name)),
            ],
        )),
    ];
    match retry_url {
        Some(url) => {
            blocks.push(Block::Action {
                label: say(invite, "email.failed.action", &[]),
                url: url.into(),
            });
            let until = when(invite, invite.expires_at);
            blocks.push(para(vec![t(say(
                invite,
                "email.failed.until",
                &[
                    ("date", &until),
                    ("cart", cart_name),
                    ("warehouse", warehouse),
                ],
            ))]));
        }
        None => blocks.push(para(vec![t(say(invite, "email.failed.ask", &names))])),
    }
    blocks.push(Block::Note(vec![t(say(
        invite,
        "email.failed.ignore",
        &[],
    ))]));
    blocks.push(on_behalf(invite));
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

#[cfg(test)]
#[path = "tests_locale.rs"]
mod tests_locale;
