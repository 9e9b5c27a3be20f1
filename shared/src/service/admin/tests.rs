use std::sync::Arc;

use super::*;
use crate::clock::Clock;
use crate::domain::{InviteId, Standing};
use crate::store::{InviteStore, Store};
use crate::testing::faults::{Fault, FaultPlan, FaultPoint, FaultyStore, Port};
use crate::testing::{new_invite, TestKit};

fn new_tenant(id: &str) -> NewTenant {
    NewTenant {
        id: id.into(),
        display_name: "  Stored Warehouse ".into(),
        notify_email: "Ops@Stored.TEST".into(),
    }
}

/// A kit with the stored warehouse `wh-stored`, as the flows see it.
async fn kit_with_tenant() -> (TestKit, crate::domain::Warehouse) {
    let kit = TestKit::new();
    let t = kit
        .services
        .create_tenant(new_tenant("wh-stored"))
        .await
        .unwrap();
    (kit, t.to_warehouse("https://cartlink.test"))
}

#[tokio::test]
async fn a_warehouse_is_created_with_its_fields_checked_and_normalized() {
    // GIVEN the kit  WHEN a warehouse is created
    let kit = TestKit::new();
    let t = kit
        .services
        .create_tenant(new_tenant("wh-stored"))
        .await
        .unwrap();
    // THEN its name is trimmed, its address's domain lower-cased, it is enabled and stored
    assert_eq!(t.display_name, "Stored Warehouse");
    assert_eq!(t.notify_email, "Ops@stored.test");
    assert!(!t.disabled);
    assert_eq!(kit.services.admin_tenant("wh-stored").await.unwrap(), t);
}

#[tokio::test]
async fn a_bad_field_a_configured_id_and_a_taken_id_are_refused() {
    // GIVEN the kit with a stored warehouse
    let (kit, _) = kit_with_tenant().await;
    let bad_id = NewTenant {
        id: "WH Upper".into(),
        ..new_tenant("x")
    };
    let bad_mail = NewTenant {
        notify_email: "not an address".into(),
        ..new_tenant("wh-x")
    };
    let bad_name = NewTenant {
        display_name: "a\nb".into(),
        ..new_tenant("wh-y")
    };
    // THEN each field error names its field, and both a configured and a stored id exist
    let field = |r: Result<Tenant, AdminError>| match r {
        Err(AdminError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(kit.services.create_tenant(bad_id).await), "id");
    assert_eq!(
        field(kit.services.create_tenant(bad_mail).await),
        "notify_email"
    );
    assert_eq!(
        field(kit.services.create_tenant(bad_name).await),
        "display_name"
    );
    assert!(matches!(
        kit.services.create_tenant(new_tenant("wh-test")).await,
        Err(AdminError::Exists)
    ));
    assert!(matches!(
        kit.services.create_tenant(new_tenant("wh-stored")).await,
        Err(AdminError::Exists)
    ));
}

#[tokio::test]
async fn disabling_withdraws_every_pending_invite_and_leaves_connected_ones() {
    // GIVEN a stored warehouse with two pending invites, and the test warehouse's invite
    let (kit, wh) = kit_with_tenant().await;
    let mut ours = Vec::new();
    for _ in 0..2 {
        let created = kit
            .services
            .create_invite(&wh, new_invite("acme"))
            .await
            .unwrap();
        ours.push(created.invite.id);
    }
    let (theirs, _) = kit.invite().await;
    // WHEN the stored warehouse is disabled
    let withdrawn = kit.services.disable_tenant("wh-stored").await.unwrap();
    // THEN both its invites are withdrawn, the other warehouse's is not
    assert_eq!(withdrawn, 2);
    let standing = |id: InviteId| {
        let store = kit.store.clone();
        let now = kit.clock.now();
        async move { store.invite(&id).await.unwrap().unwrap().standing(now) }
    };
    for id in ours {
        assert_eq!(standing(id).await, Standing::Withdrawn);
    }
    assert_ne!(standing(theirs).await, Standing::Withdrawn);
    // AND disabling again withdraws nothing more
    assert_eq!(kit.services.disable_tenant("wh-stored").await.unwrap(), 0);
}

#[tokio::test]
async fn an_invite_withdrawn_by_a_disable_has_withdrawn_in_its_history() {
    // GIVEN a stored warehouse with a pending invite
    let (kit, wh) = kit_with_tenant().await;
    let created = kit
        .services
        .create_invite(&wh, new_invite("acme"))
        .await
        .unwrap();
    // WHEN the warehouse is disabled
    kit.services.disable_tenant("wh-stored").await.unwrap();
    // THEN the invite's recorded history holds `withdrawn` (what its webhook is made from)
    let events = crate::store::InviteEvents::events_of(kit.store.as_ref(), &created.invite.id)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == crate::domain::InviteEventKind::Withdrawn),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_disabled_warehouse_gets_no_new_key_and_an_unknown_one_is_not_found() {
    // GIVEN a disabled stored warehouse
    let (kit, _) = kit_with_tenant().await;
    kit.services.disable_tenant("wh-stored").await.unwrap();
    // THEN a key for it is refused, and every call on an unknown warehouse is not found
    assert!(matches!(
        kit.services.issue_api_key("wh-stored", "").await,
        Err(AdminError::Invalid {
            field: "warehouse",
            ..
        })
    ));
    assert!(matches!(
        kit.services.issue_api_key("wh-none", "").await,
        Err(AdminError::NotFound)
    ));
    assert!(matches!(
        kit.services.disable_tenant("wh-none").await,
        Err(AdminError::NotFound)
    ));
    assert!(matches!(
        kit.services.admin_api_keys("NOT AN ID").await,
        Err(AdminError::NotFound)
    ));
    assert!(matches!(
        kit.services.revoke_api_key("wh-stored", "key-none").await,
        Err(AdminError::NotFound)
    ));
}

#[tokio::test]
async fn a_key_is_shown_once_and_only_its_hash_is_stored() {
    // GIVEN a stored warehouse  WHEN a key is issued
    let (kit, _) = kit_with_tenant().await;
    let issued = kit.services.issue_api_key("wh-stored", "").await.unwrap();
    // THEN the record holds its hash and prefix, named "default", and the key itself is
    // nowhere in the store's file
    let key = issued.secret.expose();
    assert_eq!(issued.record.hash, crate::domain::TokenHash::of(key));
    assert!(key.starts_with(&issued.record.prefix));
    assert_eq!(issued.record.name, "default");
    let db = std::fs::read(kit.dir.path().join("cartlink.db")).unwrap();
    let wal = std::fs::read(kit.dir.path().join("cartlink.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(key.len()).any(|w| w == key.as_bytes()));
    }
}

#[tokio::test]
async fn an_accent_too_light_for_white_text_is_refused_with_its_ratio() {
    // GIVEN a stored warehouse
    let (kit, _) = kit_with_tenant().await;
    // WHEN a light accent, then a malformed one, is set
    let light = BrandingInput {
        accent: Some("#ffcc00".into()),
        ..Default::default()
    };
    let malformed = BrandingInput {
        accent: Some("blue".into()),
        ..Default::default()
    };
    // THEN the first is refused for contrast, the second as a field, and nothing is stored
    assert!(matches!(
        kit.services.set_branding("wh-stored", light).await,
        Err(AdminError::LowContrast(r)) if r < 4.5
    ));
    assert!(matches!(
        kit.services.set_branding("wh-stored", malformed).await,
        Err(AdminError::Invalid {
            field: "accent",
            ..
        })
    ));
    let t = kit.services.admin_tenant("wh-stored").await.unwrap();
    assert_eq!(t.branding, Branding::default());
}

#[tokio::test]
async fn branding_is_stored_checked_and_an_http_privacy_url_is_refused() {
    // GIVEN a stored warehouse
    let (kit, _) = kit_with_tenant().await;
    // WHEN good branding is set
    let good = BrandingInput {
        accent: Some("#1A4D8F".into()),
        support_email: Some("help@stored.test".into()),
        privacy_url: Some("https://stored.test/privacy".into()),
    };
    let t = kit.services.set_branding("wh-stored", good).await.unwrap();
    // THEN it is stored, normalized
    assert_eq!(t.branding.accent.as_deref(), Some("#1a4d8f"));
    assert_eq!(
        kit.services
            .admin_tenant("wh-stored")
            .await
            .unwrap()
            .branding,
        t.branding
    );
    // AND a plain-http privacy URL, or a bad support address, is refused
    let http = BrandingInput {
        privacy_url: Some("http://stored.test/p".into()),
        ..Default::default()
    };
    let mail = BrandingInput {
        support_email: Some("help".into()),
        ..Default::default()
    };
    assert!(matches!(
        kit.services.set_branding("wh-stored", http).await,
        Err(AdminError::Invalid {
            field: "privacy_url",
            ..
        })
    ));
    assert!(matches!(
        kit.services.set_branding("wh-stored", mail).await,
        Err(AdminError::Invalid {
            field: "support_email",
            ..
        })
    ));
}

#[tokio::test]
async fn a_logo_is_stored_re_encoded_and_a_bad_one_changes_nothing() {
    // GIVEN a stored warehouse
    let (kit, _) = kit_with_tenant().await;
    // WHEN an SVG is uploaded, then a PNG
    let svg = kit.services.upload_logo("wh-stored", b"<svg/>").await;
    let upload = logo::tests::png_of(8, 8);
    let version = kit
        .services
        .upload_logo("wh-stored", &upload)
        .await
        .unwrap();
    // THEN the SVG was refused, the PNG stored as a PNG we wrote, at version 1
    assert!(matches!(
        svg,
        Err(AdminError::Logo(logo::LogoError::Unsupported))
    ));
    assert_eq!(version, 1);
    let served = kit
        .services
        .warehouse_logo("wh-stored")
        .await
        .unwrap()
        .unwrap();
    assert!(served.starts_with(b"\x89PNG"));
    assert_ne!(served, upload);
    assert!(kit
        .services
        .warehouse_logo("wh-none")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_store_outage_while_disabling_is_a_store_error_and_a_retry_finishes() {
    // GIVEN a stored warehouse with a pending invite, and a store whose invite status write fails
    let (mut kit, wh) = kit_with_tenant().await;
    let created = kit
        .services
        .create_invite(&wh, new_invite("acme"))
        .await
        .unwrap();
    let plan = FaultPlan::new();
    plan.arm(Some(FaultPoint {
        port: Port::Store,
        call: "set_invite_status",
        occurrence: 1,
        fault: Fault::Error,
    }));
    let inner: Arc<dyn Store> = kit.store.clone();
    kit.services.store = Arc::new(FaultyStore::new(inner, plan));
    // WHEN the warehouse is disabled, and disabled again
    let first = kit.services.disable_tenant("wh-stored").await;
    let again = kit.services.disable_tenant("wh-stored").await.unwrap();
    // THEN the first failed as the store, its keys already stopped; the retry withdrew the invite
    assert!(matches!(first, Err(AdminError::Store(_))), "{first:?}");
    assert!(
        kit.services
            .admin_tenant("wh-stored")
            .await
            .unwrap()
            .disabled
    );
    assert_eq!(again, 1);
    let invite = kit.store.invite(&created.invite.id).await.unwrap().unwrap();
    assert_eq!(invite.standing(kit.clock.now()), Standing::Withdrawn);
}
