//! Signing admin API calls with SigV4 for API Gateway's `AWS_IAM` authorizer (service
//! `execute-api`), with the credentials of the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`), as the AWS CLI reads them.

use std::fmt;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

/// What signs: the credentials and the region of the API.
#[derive(Clone, PartialEq, Eq)]
pub struct Signer {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The signer of the environment, if it holds a key pair and a region.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Option<Signer> {
        let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        Some(Signer {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"))?,
        })
    }

    /// The headers that sign a request of `method` to `url` (already encoded) with `headers`
    /// (signed too) and `body`, at `time`: `authorization`, `x-amz-date` and, with a session
    /// token, `x-amz-security-token`.
    pub fn headers(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, String> {
        let identity = Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "environment",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("execute-api")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let request = SignableRequest::new(
            method,
            url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        let (headers, _) = instructions.into_parts();
        Ok(headers
            .into_iter()
            .map(|h| (h.name().to_owned(), h.value().to_owned()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        let env = |k: &str| {
            Some(match k {
                "AWS_ACCESS_KEY_ID" => "AKIDEXAMPLE".to_owned(),
                "AWS_SECRET_ACCESS_KEY" => "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
                "AWS_REGION" => "eu-west-1".to_owned(),
                _ => return None,
            })
        };
        Signer::from_env(&env).unwrap()
    }

    #[test]
    fn a_call_is_signed_for_execute_api_in_the_region_and_the_secret_stays_out_of_debug() {
        // GIVEN credentials of the environment
        let s = signer();
        // WHEN a call is signed
        let headers = s
            .headers(
                "POST",
                "https://api.example.test/admin/v1/warehouses",
                &[("content-type", "application/json")],
                b"{}",
                SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_083_200),
            )
            .unwrap();
        let auth = &headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .unwrap()
            .1;
        // THEN it is SigV4 for execute-api in that region, dated, over host and content type
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/eu-west-1/execute-api/aws4_request"
        ));
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date"),
            "{auth}"
        );
        assert!(headers
            .iter()
            .any(|(k, v)| k == "x-amz-date" && v == "20261201T000000Z"));
        assert!(!format!("{s:?}").contains("EXAMPLEKEY"));
    }

    #[test]
    fn without_a_key_pair_or_a_region_there_is_no_signer() {
        // GIVEN an environment with a key pair but no region  THEN no signer
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".to_owned()),
            _ => None,
        };
        assert!(Signer::from_env(&env).is_none());
    }
}
