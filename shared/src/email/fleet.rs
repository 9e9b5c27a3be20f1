//! The emails of the warehouse's fleet actions on an existing connection.

use super::render::{b, para, t, Block};
use super::{build, greeting, on_behalf, plain_words, sign_in_and_code};
use crate::domain::{AccessCode, Invite, Timestamp};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

/// "The warehouse no longer has access", to the merchant, once the warehouse disconnected their
/// store: cartlink deleted the stored access, and told the cart to end it where the cart offers
/// that (`revoked_at_cart`); where it does not, the merchant may remove the app at the cart.
pub fn disconnected_email(
    invite: &Invite,
    cart_name: &str,
    disconnected_at: Timestamp,
    revoked_at_cart: bool,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let subject = format!("{warehouse} no longer has access to your {cart_name} store");
    let at_cart = if revoked_at_cart {
        format!("{cart_name} was told to end the access too.")
    } else {
        format!(
            "To remove the app from your {cart_name} account as well, do so in {cart_name}'s \
             settings."
        )
    };
    let blocks = [
        greeting(invite),
        para(vec![
            t(format!("On {} ", disconnected_at.human())),
            b(warehouse),
            t(" disconnected your "),
            b(cart_name),
            t(" store: the access you granted was deleted from cartlink, and "),
            b(warehouse),
            t(" can no longer reach your store through it."),
        ]),
        para(vec![t(at_cart)]),
        Block::Note(vec![t(format!(
            "If you did not expect this, ask {warehouse}: nothing else changed in your store."
        ))]),
        on_behalf(warehouse),
    ];
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::Disconnected,
    )
}

/// The re-authorization invite, to the merchant: the access they granted stopped working (or
/// the warehouse asked to renew it), and this link renews that same connection, for the same
/// store and functions; with the access code for the access-code page, and the expiry.
pub fn reconnect_invite_email(
    invite: &Invite,
    cart_name: &str,
    setup_url: &str,
    setup_page_url: &str,
    code: &AccessCode,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let subject = format!("Renew {warehouse}'s access to your {cart_name} store");
    let mut blocks = vec![
        greeting(invite),
        para(vec![
            t("The access you gave "),
            b(warehouse),
            t(" to your "),
            b(cart_name),
            t(format!(
                " store needs to be renewed: {cart_name} no longer accepts it, or {warehouse} \
                 asked to renew it. Renewing keeps the existing connection, for the same store, \
                 so that {warehouse} can again:"
            )),
        ]),
        Block::List(plain_words(&invite.functions)),
        Block::Action {
            label: "Review and renew access".into(),
            url: setup_url.into(),
        },
    ];
    blocks.extend(sign_in_and_code(invite, cart_name, setup_page_url, code));
    blocks.extend([
        Block::Note(vec![t(format!(
            "If you no longer work with {warehouse}, ignore this email: nothing is renewed until you grant access."
        ))]),
        on_behalf(warehouse),
    ]);
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::ReconnectInvite,
    )
}
