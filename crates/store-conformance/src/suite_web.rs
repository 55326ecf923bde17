//! Cases about the web interface's people and sessions.

use recert_domain::web::WebSession;
use recert_domain::{ClientRole, Clock, Duration, ManualClock, Timestamp};
use recert_store::Store;

use crate::fixture::{id, small_org};

async fn loaded(store: &dyn Store) -> ManualClock {
    let clock = ManualClock::new(Timestamp::parse("2026-03-01T10:00:00.000Z").unwrap());
    recert_core::import::import_dataset(store, &clock, small_org(), "test")
        .await
        .unwrap();
    clock
}

pub async fn web_users_and_their_logins(store: &dyn Store) {
    let clock = loaded(store).await;
    let now = clock.now();
    assert!(
        !store
            .set_web_user(id(9, 9), Some("h"), None, now)
            .await
            .unwrap(),
        "no such identity"
    );
    assert!(store.web_user(id(1, 2)).await.unwrap().is_none());
    assert!(
        store
            .set_web_user(id(1, 2), Some("hash-1"), None, now)
            .await
            .unwrap()
    );
    let u = store.web_user(id(1, 2)).await.unwrap().unwrap();
    assert_eq!(u.password_hash.as_deref(), Some("hash-1"));
    assert!(u.roles.is_empty());
    store
        .set_web_user(
            id(1, 2),
            Some("hash-2"),
            Some(&[ClientRole::CertAdmin, ClientRole::ReportAdmin]),
            now,
        )
        .await
        .unwrap();
    store
        .set_web_user(id(1, 2), Some("hash-3"), None, now)
        .await
        .unwrap();
    let u = store.web_user(id(1, 2)).await.unwrap().unwrap();
    assert_eq!(u.password_hash.as_deref(), Some("hash-3"));
    assert_eq!(
        u.roles,
        vec![ClientRole::CertAdmin, ClientRole::ReportAdmin],
        "roles stay when not given"
    );
    for login in [
        "bob.manager",
        "BOB.MANAGER",
        "Bob.Manager@Example.com",
        " bob.manager ",
    ] {
        let i = store.identity_by_login(login).await.unwrap();
        assert_eq!(i.map(|i| i.id), Some(id(1, 2)), "{login}");
    }
    assert!(store.identity_by_login("nobody").await.unwrap().is_none());
    assert!(
        store
            .identity_by_login("dave.leaver")
            .await
            .unwrap()
            .is_none(),
        "inactive identities do not sign in"
    );
}

pub async fn web_sessions_expire_and_end(store: &dyn Store) {
    let clock = loaded(store).await;
    let now = clock.now();
    let s = |hash: &str, hours: i64| WebSession {
        token_hash: hash.into(),
        identity_id: id(1, 2),
        csrf: format!("csrf-{hash}"),
        created_at: now,
        expires_at: now.plus(Duration::hours(hours)),
    };
    store.create_web_session(&s("a", 1)).await.unwrap();
    store.create_web_session(&s("b", 12)).await.unwrap();
    assert_eq!(store.web_session("a", now).await.unwrap(), Some(s("a", 1)));
    assert!(store.web_session("zzz", now).await.unwrap().is_none());
    let later = now.plus(Duration::hours(2));
    assert!(
        store.web_session("a", later).await.unwrap().is_none(),
        "expired"
    );
    assert!(store.web_session("b", later).await.unwrap().is_some());
    store
        .set_web_user(id(1, 2), Some("new hash"), None, later)
        .await
        .unwrap();
    assert!(
        store.web_session("b", later).await.unwrap().is_none(),
        "a new password ends the sessions"
    );
    store.create_web_session(&s("b", 12)).await.unwrap();
    store.delete_web_session("b", later).await.unwrap();
    assert!(
        store.web_session("b", now).await.unwrap().is_none(),
        "ended"
    );
    assert!(
        store.web_session("a", now).await.unwrap().is_none(),
        "expired sessions are swept"
    );
}
