//! The emails of the manage page: a lost manage link sent again, and a merchant's own
//! withdrawal (the merchant's receipt and the warehouse's notice).

use super::render::{b, para, t, Block};
use super::{build, greeting, on_behalf, say, words};
use crate::domain::{Invite, Timestamp};
use crate::i18n::Arg;
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::EmailKind;

/// "You withdrew the warehouse's access", to the merchant in the invite's language: what was
/// done, and, where the cart was not told (`revoked_at_cart` false), where to remove the app
/// there too. (The warehouse's own disconnect is told by [`super::disconnected_email`]; both
/// are one email of two wordings.)
pub fn withdrawn_receipt_email(
    invite: &Invite,
    cart_name: &str,
    withdrawn_at: Timestamp,
    revoked_at_cart: bool,
) -> Result<OutgoingEmail, MailError> {
    super::fleet::access_ended_email(
        "email.withdrawn",
        invite,
        cart_name,
        withdrawn_at,
        revoked_at_cart,
    )
}

/// A lost manage link, sent again at the merchant's request, in the invite's language: the
/// button to the manage page and what it is for.
pub fn manage_link_email(
    invite: &Invite,
    cart_name: &str,
    manage_url: &str,
) -> Result<OutgoingEmail, MailError> {
    let warehouse = invite.warehouse.display_name.as_str();
    let names = [("warehouse", warehouse), ("cart", cart_name)];
    let subject = say(invite, "email.manage_link.subject", &names);
    let blocks = [
        greeting(invite),
        para(words(
            invite,
            "email.manage_link.intro",
            &[
                ("warehouse", Arg::Strong(warehouse)),
                ("cart", Arg::Strong(cart_name)),
            ],
        )),
        Block::Action {
            label: say(invite, "email.confirmation.manage", &[]),
            url: manage_url.into(),
        },
        para(vec![t(say(
            invite,
            "email.confirmation.manage_text",
            &names,
        ))]),
        Block::Note(vec![t(say(invite, "email.manage_link.ignore", &[]))]),
        on_behalf(invite),
    ];
    build(
        &invite.merchant_email,
        &subject,
        &blocks,
        invite,
        EmailKind::ManageLink,
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
    let opening = para(vec![
        b(merchant),
        t(format!(
            " ({}) withdrew your access to their {cart_name} store on {}.",
            invite.merchant_email,
            withdrawn_at.human()
        )),
    ]);
    warehouse_access_ended(
        invite,
        connection,
        &subject,
        opening,
        EmailKind::AccessWithdrawn,
    )
}

/// The warehouse's "your access ended" email, whoever ended it: `opening` says who and when,
/// then the ids, what the token API answers now and what to do.
pub(super) fn warehouse_access_ended(
    invite: &Invite,
    connection: &str,
    subject: &str,
    opening: Block,
    kind: EmailKind,
) -> Result<OutgoingEmail, MailError> {
    let blocks = [
        opening,
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
        subject,
        &blocks,
        invite,
        kind,
    )
}
