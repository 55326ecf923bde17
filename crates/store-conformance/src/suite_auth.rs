//! Cases about API clients and token signing keys.

use recert_core::clients::{self, NewClient};
use recert_domain::{ApiClient, ClientRole, Clock, Duration, Id};
use recert_store::{Store, StoreError};

use crate::fixture::{id, small_org};
use crate::suite::clock;

async fn load(store: &dyn Store, clock: &recert_domain::ManualClock) {
    recert_core::import::import_dataset(store, clock, small_org(), "test")
        .await
        .unwrap();
}

pub async fn api_clients_lifecycle(store: &dyn Store) {
    let clock = clock();
    load(store, &clock).await;
    let admin = clients::create(
        store,
        &clock,
        NewClient {
            name: None,
            roles: vec![
                ClientRole::ReportAdmin,
                ClientRole::CertAdmin,
                ClientRole::CertAdmin,
            ],
            identity_id: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        admin.client.roles,
        vec![ClientRole::CertAdmin, ClientRole::ReportAdmin]
    );
    assert!(!admin.client.secret_hash.contains(&admin.secret));
    assert!(
        !format!("{admin:?}").contains(&admin.secret),
        "Debug must not show the secret"
    );
    let got: ApiClient = store.api_client(admin.client.id).await.unwrap().unwrap();
    assert_eq!(got, admin.client);
    assert!(clients::verify_secret(&got, &admin.secret));
    assert!(!clients::verify_secret(&got, "wrong"));
    let reviewer = clients::create(
        store,
        &clock,
        NewClient {
            name: Some("bob".into()),
            roles: vec![ClientRole::User],
            identity_id: Some(id(1, 2)),
        },
    )
    .await
    .unwrap();
    assert_eq!(reviewer.client.identity_id, Some(id(1, 2)));
    let dup = store.create_api_client(&reviewer.client).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");
    let unknown = clients::create(
        store,
        &clock,
        NewClient {
            name: None,
            roles: vec![ClientRole::User],
            identity_id: Some(id(9, 9)),
        },
    )
    .await;
    assert!(matches!(
        unknown,
        Err(clients::ClientError::UnknownIdentity(_))
    ));
    assert!(matches!(
        clients::create(
            store,
            &clock,
            NewClient {
                name: None,
                roles: vec![ClientRole::User],
                identity_id: None
            }
        )
        .await,
        Err(clients::ClientError::UserWithoutIdentity)
    ));
    assert_eq!(store.api_clients().await.unwrap().len(), 2);
    assert_eq!(store.counts().await.unwrap().api_clients, 2);
    clock.advance(Duration::minutes(5));
    clients::revoke(store, &clock, admin.client.id)
        .await
        .unwrap();
    let revoked = store.api_client(admin.client.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(clock.now()));
    assert!(matches!(
        clients::revoke(store, &clock, admin.client.id).await,
        Err(clients::ClientError::AlreadyRevoked(_))
    ));
    assert!(matches!(
        clients::revoke(store, &clock, id(9, 9)).await,
        Err(clients::ClientError::NotFound(_))
    ));
    assert_eq!(store.counts().await.unwrap().api_clients, 1);
}

pub async fn signing_keys_rotate(store: &dyn Store) {
    let clock = clock();
    let key = |n: u8| recert_domain::SigningKey {
        kid: Id::generate(),
        private_key: [n; 32],
        created_at: clock.now(),
        retired_at: None,
    };
    assert!(store.signing_keys().await.unwrap().is_empty());
    let first = key(1);
    assert_eq!(store.ensure_signing_key(&first).await.unwrap(), first);
    // A second process starting later finds the key already there.
    let second = key(2);
    assert_eq!(store.ensure_signing_key(&second).await.unwrap(), first);
    clock.advance(Duration::days(1));
    let mut third = key(3);
    third.created_at = clock.now();
    store.rotate_signing_key(&third).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], third, "newest first, current");
    assert_eq!(keys[1].kid, first.kid);
    assert_eq!(keys[1].retired_at, Some(third.created_at));
    assert_eq!(keys[1].private_key, first.private_key);
    assert!(
        !format!("{:?}", keys[0]).contains("3, 3, 3"),
        "Debug must hide the key"
    );
    let again = store.rotate_signing_key(&third).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");
    assert_eq!(
        store.signing_keys().await.unwrap().len(),
        2,
        "a failed rotation changes nothing"
    );
}

/// The reads of get-certification: a client and a certification, each found or not, a revoked
/// client read as revoked.
pub(crate) async fn client_and_certification_read_together(
    w: &crate::suite_campaigns::World,
    cert: &recert_domain::review::Certification,
) {
    let new = |name: &str| NewClient {
        name: Some(name.into()),
        roles: vec![recert_domain::ClientRole::CertAdmin],
        identity_id: None,
    };
    let (store, clock) = (w.store.as_ref(), w.clock.as_ref());
    let reader = clients::create(store, clock, new("reader")).await.unwrap();
    let gone = clients::create(store, clock, new("gone")).await.unwrap();
    clients::revoke(store, clock, gone.client.id).await.unwrap();
    let gone = store.api_client(gone.client.id).await.unwrap().unwrap();
    assert!(gone.revoked_at.is_some());
    let nobody = Id::generate();
    let both = |client: Id, c: Id| store.client_and_certification(client, c);
    let r = &reader.client;
    let some = Some(cert.clone());
    assert_eq!(
        both(r.id, cert.id).await.unwrap(),
        (Some(r.clone()), some.clone())
    );
    assert_eq!(
        both(gone.id, cert.id).await.unwrap(),
        (Some(gone), some.clone())
    );
    assert_eq!(both(nobody, cert.id).await.unwrap(), (None, some));
    assert_eq!(both(r.id, nobody).await.unwrap(), (Some(r.clone()), None));
    assert_eq!(both(nobody, nobody).await.unwrap(), (None, None));
    // Many at once, as under load: each caller gets its own pair.
    let mut reads = tokio::task::JoinSet::new();
    for n in 0..64 {
        let (client, c) = if n % 2 == 0 {
            (r.id, cert.id)
        } else {
            (nobody, nobody)
        };
        let store = w.store.clone();
        reads.spawn(async move { (n, store.client_and_certification(client, c).await) });
    }
    while let Some(read) = reads.join_next().await {
        let (n, got) = read.unwrap();
        let (client, c) = got.unwrap();
        assert_eq!((client.is_some(), c.is_some()), (n % 2 == 0, n % 2 == 0));
    }
}
