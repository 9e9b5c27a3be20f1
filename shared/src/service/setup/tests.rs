use super::*;
use crate::testing::TestKit;

fn client(n: u8) -> Option<IpAddr> {
    Some(IpAddr::from([198, 51, 100, n]))
}

#[tokio::test]
async fn a_code_is_redeemed_at_most_twenty_times_whoever_types_it() {
    // GIVEN an invite and its access code
    let kit = TestKit::new();
    kit.invite().await;
    let code = kit.access_code();
    // WHEN it is redeemed the allowed number of times, each from another client address
    for n in 0..REDEMPTIONS_PER_CODE {
        let n = u8::try_from(n).unwrap();
        assert!(kit
            .services
            .redeem_access_code(&code, client(n))
            .await
            .is_ok());
    }
    // THEN one more redemption is refused, from a fresh address too
    assert!(matches!(
        kit.services.redeem_access_code(&code, client(200)).await,
        Err(SetupError::TooManyAttempts)
    ));
}
