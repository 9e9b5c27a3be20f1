//! The emails of a cart's lifecycle signals: an uninstall at the cart, told to the warehouse.

use super::manage::warehouse_access_ended;
use super::render::{b, para, t};
use crate::domain::{Invite, Timestamp};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

/// "The merchant removed the app at the cart", to the warehouse (in English, as every
/// warehouse email): the connection is gone, the token API answers 404 for it.
pub fn revoked_at_cart_email(
    invite: &Invite,
    cart_name: &str,
    connection: &str,
    revoked_at: Timestamp,
) -> Result<OutgoingEmail, MailError> {
    let merchant = invite
        .merchant_name
        .as_deref()
        .unwrap_or(&invite.merchant_email);
    let subject = format!("{merchant} removed the app from their {cart_name} store");
    let opening = para(vec![
        t(format!(
            "{cart_name} told cartlink on {} that ",
            revoked_at.human()
        )),
        b(merchant),
        t(format!(
            " ({}) removed the app from their store, which ends your access.",
            invite.merchant_email
        )),
    ]);
    warehouse_access_ended(
        invite,
        connection,
        &subject,
        opening,
        EmailKind::RevokedAtCart,
    )
}
