//! Wix: the signed app instance its external install flow returns beside the `instanceId`, the
//! one value that binds the instance to the install this browser made. Its format is the one
//! Wix documents for the app `instance` parameter: `<signature>.<data>`, both base64url without
//! padding, the signature an HMAC-SHA256 of the data part (as sent) with the app secret, the data
//! a JSON object naming the `instanceId` and its `signDate`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{CallbackCheck, CheckInput};
use crate::domain::secrets::constant_time_eq;
use crate::domain::{Refusal, Timestamp};

/// The callback parameter holding the signed instance.
pub const SIGNED_INSTANCE_PARAM: &str = "signedInstance";
/// The callback parameter naming the instance (the connection's account).
pub const INSTANCE_PARAM: &str = "instanceId";
/// How far the signed instance's `signDate` may be from now: the install redirect follows the
/// signature at once, so ten minutes is generous, and an instance signed long ago (a value
/// copied from elsewhere) is refused.
pub const SIGNED_INSTANCE_WINDOW_SECS: i64 = 600;

/// The base64url HMAC-SHA256 of `data` (the data part as sent) with `secret`.
pub fn signature(secret: &str, data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(data.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn signed_instance(input: &CheckInput<'_>) -> Result<(), Refusal> {
    let secret = input
        .credentials
        .client_secret
        .as_ref()
        .ok_or(Refusal::HmacNoSecret)?;
    let given = input
        .params
        .get(SIGNED_INSTANCE_PARAM)
        .ok_or(Refusal::HmacMissing)?;
    let (sig, data) = given.split_once('.').ok_or(Refusal::HmacInvalid)?;
    // Padding is optional in base64url; it is compared without.
    let expected = signature(secret.expose(), data);
    if !constant_time_eq(sig.trim_end_matches('=').as_bytes(), expected.as_bytes()) {
        return Err(Refusal::HmacInvalid);
    }
    let json: serde_json::Value = URL_SAFE_NO_PAD
        .decode(data.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(Refusal::HmacInvalid)?;
    // The signature vouches for the instance it names, and only for that one.
    let signed = json.get("instanceId").and_then(|v| v.as_str());
    if signed.is_none() || signed != input.params.get(INSTANCE_PARAM).map(String::as_str) {
        return Err(Refusal::HmacInvalid);
    }
    let signed_at = json
        .get("signDate")
        .and_then(|v| v.as_str())
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|t| Timestamp(t.unix_timestamp()))
        .ok_or(Refusal::TimestampMissing)?;
    if (input.now.0 - signed_at.0).abs() > SIGNED_INSTANCE_WINDOW_SECS {
        return Err(Refusal::TimestampStale);
    }
    Ok(())
}

/// Wix: the callback's `signedInstance` is signed with our app secret, names the callback's
/// `instanceId`, and was signed within [`SIGNED_INSTANCE_WINDOW_SECS`].
pub const WIX_SIGNED_INSTANCE: CallbackCheck = CallbackCheck {
    name: "wix_signed_instance",
    run: signed_instance,
};

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::carts::ClientCredentials;
    use crate::domain::Secret;

    const INSTANCE: &str = "5f2a9a0e-1c1d-4b7e-9a55-0d3b8c8e7f10";
    const NOW: i64 = 1_800_000_000;

    fn date(at: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp(at)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }

    /// A callback whose signed instance names `signed` at `at`, signed with `secret`.
    fn callback(secret: &str, signed: &str, at: i64) -> HashMap<String, String> {
        let data = URL_SAFE_NO_PAD
            .encode(serde_json::json!({"instanceId": signed, "signDate": date(at)}).to_string());
        HashMap::from([
            (INSTANCE_PARAM.to_owned(), INSTANCE.to_owned()),
            (
                SIGNED_INSTANCE_PARAM.to_owned(),
                format!("{}.{data}", signature(secret, &data)),
            ),
        ])
    }

    fn run(params: &HashMap<String, String>) -> Result<(), &'static str> {
        let credentials = ClientCredentials::new("app", Some(Secret::new("shh")));
        (WIX_SIGNED_INSTANCE.run)(&CheckInput {
            params,
            credentials: &credentials,
            now: Timestamp(NOW),
        })
        .map_err(Refusal::as_str)
    }

    #[test]
    fn an_instance_signed_with_our_secret_just_now_passes() {
        // GIVEN a callback whose instance Wix signed with our secret a minute ago
        let params = callback("shh", INSTANCE, NOW - 60);
        // WHEN it is checked THEN it passes
        assert_eq!(run(&params), Ok(()));
    }

    #[test]
    fn a_signature_with_another_secret_is_refused() {
        // GIVEN a signed instance whose signature is made with another app's secret
        let params = callback("other", INSTANCE, NOW);
        // WHEN it is checked THEN it is refused
        assert_eq!(run(&params), Err("hmac_invalid"));
    }

    #[test]
    fn a_signed_instance_naming_another_instance_is_refused() {
        // GIVEN a genuine signed instance of another site, beside our instanceId
        let params = callback("shh", "00000000-0000-4000-8000-000000000000", NOW);
        // WHEN it is checked THEN it is refused
        assert_eq!(run(&params), Err("hmac_invalid"));
    }

    #[test]
    fn a_callback_without_a_signed_instance_is_refused() {
        // GIVEN a callback naming an instance with nothing signed
        let mut params = callback("shh", INSTANCE, NOW);
        params.remove(SIGNED_INSTANCE_PARAM);
        // WHEN it is checked THEN it is refused
        assert_eq!(run(&params), Err("hmac_missing"));
    }

    #[test]
    fn an_instance_signed_long_ago_is_refused() {
        // GIVEN a signed instance eleven minutes old
        let params = callback("shh", INSTANCE, NOW - SIGNED_INSTANCE_WINDOW_SECS - 60);
        // WHEN it is checked THEN it is stale
        assert_eq!(run(&params), Err("timestamp_stale"));
    }

    #[test]
    fn a_tampered_data_part_is_refused() {
        // GIVEN a signed instance whose data part is replaced after signing
        let mut params = callback("shh", INSTANCE, NOW);
        let sig = params[SIGNED_INSTANCE_PARAM]
            .split('.')
            .next()
            .unwrap()
            .to_owned();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"instanceId": INSTANCE, "signDate": date(NOW)}).to_string() + " ",
        );
        params.insert(SIGNED_INSTANCE_PARAM.into(), format!("{sig}.{forged}"));
        // WHEN it is checked THEN it is refused
        assert_eq!(run(&params), Err("hmac_invalid"));
    }
}
