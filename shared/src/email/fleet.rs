//! The emails of the warehouse's fleet actions on an existing connection.

use super::render::{para, t, Block};
use super::{build, greeting, on_behalf, plain_words, say, sign_in_and_code, when, words};
use crate::domain::{AccessCode, Invite, Timestamp};
use crate::i18n::Arg;
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

/// "The warehouse no longer has access", to the merchant in the invite's language, once the
/// warehouse disconnected their store: cartlink deleted the stored access, and told the cart to
/// end it where the cart offers that (`revoked_at_cart`); where it does not, the merchant may
/// remove the app at the cart.
pub fn disconnected_email(
    invite: &Invite,
    cart_name: &str,
    disconnected_at: Timestamp,
    revoked_at_cart: bool,
) -> Result<OutgoingEmail, MailError> {
    access_ended_email(
        "email.disconnected",
        invite,
        cart_name,
        disconnected_at,
        revoked_at_cart,
    )
}

/// The merchant's email that a warehouse's access ended, worded by the catalog family `family`
/// (`email.disconnected`: the warehouse dropped it; `email.withdrawn`: the merchant did): its
/// `.subject`, `.intro` and `.unexpected`, with what the cart was told.
pub(super) fn access_ended_email(
    family: &str,
    invite: &Invite,
    cart_name: &str,
    ended_at: Timestamp,
    revoked_at_cart: bool,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let names = [("warehouse", warehouse), ("cart", cart_name)];
    let subject = say(invite, &format!("{family}.subject"), &names);
    let at_cart = if revoked_at_cart {
        "email.disconnected.revoked"
    } else {
        "email.disconnected.at_cart"
    };
    let date = when(invite, ended_at);
    let blocks = [
        greeting(invite),
        para(words(
            invite,
            &format!("{family}.intro"),
            &[
                ("date", Arg::Text(&date)),
                ("warehouse", Arg::Strong(warehouse)),
                ("cart", Arg::Strong(cart_name)),
            ],
        )),
        para(vec![t(say(invite, at_cart, &names))]),
        Block::Note(vec![t(say(
            invite,
            &format!("{family}.unexpected"),
            &names,
        ))]),
        on_behalf(invite),
    ];
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::Disconnected,
    )
}

/// The re-authorization invite, to the merchant in the invite's language: the access they
/// granted stopped working (or the warehouse asked to renew it), or, with `deadline`, ends then
/// by the cart's rule (proactive care); this link renews that same connection, for the same
/// store and functions; with the access code for the access-code page, and the expiry.
pub fn reconnect_invite_email(
    invite: &Invite,
    cart_name: &str,
    setup_url: &str,
    setup_page_url: &str,
    code: &AccessCode,
    deadline: Option<Timestamp>,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let names = [("warehouse", warehouse), ("cart", cart_name)];
    let subject = say(invite, "email.reconnect.subject", &names);
    let ends = deadline.map(|d| when(invite, d));
    let intro = match &ends {
        Some(date) => words(
            invite,
            "email.reconnect.intro_deadline",
            &[
                ("warehouse", Arg::Strong(warehouse)),
                ("cart", Arg::Strong(cart_name)),
                ("date", Arg::Strong(date)),
            ],
        ),
        None => words(
            invite,
            "email.reconnect.intro",
            &[
                ("warehouse", Arg::Strong(warehouse)),
                ("cart", Arg::Strong(cart_name)),
            ],
        ),
    };
    let mut blocks = vec![
        greeting(invite),
        para(intro),
        Block::List(plain_words(invite)),
        Block::Action {
            label: say(invite, "email.reconnect.action", &[]),
            url: setup_url.into(),
        },
    ];
    blocks.extend(sign_in_and_code(invite, cart_name, setup_page_url, code));
    blocks.extend([
        Block::Note(vec![t(say(invite, "email.reconnect.ignore", &names))]),
        on_behalf(invite),
    ]);
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::ReconnectInvite,
    )
}
