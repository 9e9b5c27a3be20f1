//! The emails of a merchant's own withdrawal from their manage page: the merchant's receipt and
//! the warehouse's notice.

use super::render::{b, para, t, Block};
use super::{build, greeting, on_behalf};
use crate::domain::{Invite, Timestamp};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

/// "You withdrew the warehouse's access", to the merchant: what was done, and, where the cart
/// was not told (`revoked_at_cart` false), where to remove the app there too.
pub fn withdrawn_receipt_email(
    invite: &Invite,
    cart_name: &str,
    withdrawn_at: Timestamp,
    revoked_at_cart: bool,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let subject = format!("You withdrew {warehouse}'s access to your {cart_name} store");
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
            t(format!(
                "On {} you withdrew the access of ",
                withdrawn_at.human()
            )),
            b(warehouse),
            t(" to your "),
            b(cart_name),
            t(" store. The access you granted was deleted from cartlink."),
        ]),
        para(vec![t(at_cart)]),
        Block::Note(vec![t(format!(
            "If you did not do this, your store is safe: nobody gained access. Ask {warehouse} \
             for a new link if you want to connect again."
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

/// "The merchant withdrew your access", to the warehouse: the connection is gone, the token API
/// answers 404 for it.
pub fn access_withdrawn_email(
    invite: &Invite,
    cart_name: &str,
    connection: &str,
    withdrawn_at: Timestamp,
) -> Result<OutgoingEmail, MailError> {
    let merchant = invite
        .merchant_name
        .as_deref()
        .unwrap_or(&invite.merchant_email);
    let subject = format!("{merchant} withdrew your access to their {cart_name} store");
    let blocks = [
        para(vec![
            b(merchant),
            t(format!(
                " ({}) withdrew your access to their {cart_name} store on {}.",
                invite.merchant_email,
                withdrawn_at.human()
            )),
        ]),
        Block::Facts(vec![
            ("Invite", invite.id.to_string()),
            ("Connection", connection.to_owned()),
        ]),
        para(vec![t(
            "The stored access was deleted: the token API answers 404 for this connection. To \
             work with this store again, create a new invite for the merchant.",
        )]),
        Block::Note(vec![t("Sent by cartlink.")]),
    ];
    build(
        &invite.warehouse.notify_email,
        &subject,
        &blocks,
        invite,
        EmailKind::AccessWithdrawn,
    )
}
