//! The email of proactive care to the warehouse: a connection's hard re-authorization
//! deadline is near, and the merchant was invited to renew it.

use super::build;
use super::render::{b, para, t, Block};
use crate::domain::{Invite, Timestamp};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

/// "A connection must be renewed by its deadline", to the warehouse (in English, as every
/// warehouse email): the cart ends the grant then; the merchant got a reconnect invite; the
/// connection works until then.
pub fn reauthorization_due_email(
    invite: &Invite,
    cart_name: &str,
    connection: &str,
    deadline: Timestamp,
) -> Result<OutgoingEmail, MailError> {
    let merchant = invite
        .merchant_name
        .as_deref()
        .unwrap_or(&invite.merchant_email);
    let subject = format!(
        "{merchant}'s {cart_name} connection must be renewed by {}",
        deadline.human()
    );
    let blocks = [
        para(vec![
            t(format!("{cart_name} ends the access that ")),
            b(merchant),
            t(format!(
                " ({}) granted on {}: it asks every store to renew it at fixed times. cartlink \
                 has emailed the merchant a link that renews this connection.",
                invite.merchant_email,
                deadline.human()
            )),
        ]),
        Block::Facts(vec![
            ("Invite", invite.id.to_string()),
            ("Connection", connection.to_owned()),
        ]),
        para(vec![t(
            "The connection keeps working until then, and after the merchant renews it, with the \
             same id. If they do not, its tokens stop working on that day.",
        )]),
        Block::Note(vec![t("Sent by cartlink, once per deadline.")]),
    ];
    build(
        &invite.warehouse.notify_email,
        &subject,
        &blocks,
        invite,
        EmailKind::ReauthorizationDue,
    )
}
