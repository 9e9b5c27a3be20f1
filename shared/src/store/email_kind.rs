//! Which email a message is, and the key of its send record.

/// Which email a message (and a send record) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmailKind {
    /// The invite itself, to the merchant.
    Invite,
    /// "You connected your store", to the merchant.
    MerchantConfirmation,
    /// "The merchant connected their store", to the warehouse.
    WarehouseConfirmation,
    /// "Connecting your store did not complete", to the merchant, with a link to try again.
    GrantFailed,
    /// "The warehouse no longer has access", to the merchant, when the warehouse disconnected.
    Disconnected,
    /// The re-authorization invite, to the merchant: a link that renews an existing connection.
    ReconnectInvite,
    /// "A connection needs re-authorization", to the warehouse, when the cart refused its
    /// refresh token.
    ReauthorizationNeeded,
    /// The invite again, with the link and access code of the invite's `n`th replacement
    /// ([`InviteStore::replace_secrets`]): each replacement is its own email, sent once.
    InviteResend(u32),
    /// "The merchant withdrew your access", to the warehouse, when the merchant withdrew it from
    /// their manage page.
    AccessWithdrawn,
    /// "The merchant removed the app at the cart", to the warehouse, when the cart told
    /// cartlink of an uninstall.
    RevokedAtCart,
    /// A lost manage link, sent again to the merchant at their request (no send record:
    /// each request is its own email, within the rate limits).
    ManageLink,
    /// "A connection must be renewed by its deadline", to the warehouse, when proactive care
    /// invited the merchant ahead of the cart's hard re-authorization deadline (its send
    /// record is the care invite's, so once per deadline).
    ReauthorizationDue,
}

impl EmailKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::Invite => "invite",
            EmailKind::MerchantConfirmation => "merchant_confirmation",
            EmailKind::WarehouseConfirmation => "warehouse_confirmation",
            EmailKind::GrantFailed => "grant_failed",
            EmailKind::ReauthorizationNeeded => "reauthorization_needed",
            EmailKind::InviteResend(_) => "invite_resend",
            EmailKind::Disconnected => "disconnected",
            EmailKind::ReconnectInvite => "reconnect_invite",
            EmailKind::AccessWithdrawn => "access_withdrawn",
            EmailKind::ManageLink => "manage_link",
            EmailKind::RevokedAtCart => "revoked_at_cart",
            EmailKind::ReauthorizationDue => "reauthorization_due",
        }
    }

    /// What the send record of this email is keyed by beside the invite: the stored name, and
    /// for a resend also its number (`invite_resend_2`), so every resend has its own record.
    pub fn record_key(self) -> String {
        match self {
            EmailKind::InviteResend(n) => format!("{}_{n}", self.as_str()),
            other => other.as_str().to_owned(),
        }
    }
}
