//! Import through the public API on a real SQLite file: formats, every kind of bad input, and
//! that a refused import changes nothing.

use std::path::{Path, PathBuf};

use recert_core::import::{self, ImportError};
use recert_domain::{ManualClock, Timestamp};
use recert_store::Store;
use recert_store_sqlite::{SqliteOptions, SqliteStore};

struct Env {
    store: SqliteStore,
    clock: ManualClock,
    dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("recert.db"), SqliteOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let clock = ManualClock::new(Timestamp::parse("2026-02-01T08:00:00.000Z").unwrap());
    Env { store, clock, dir }
}

const A: &str = "000000000000000000000000000000a1";
const B: &str = "000000000000000000000000000000b2";
const C: &str = "000000000000000000000000000000c3";
const SRC: &str = "0000000000000000000000000000051c";
const ACC: &str = "000000000000000000000000000acc01";
const ENT: &str = "0000000000000000000000000000e001";
const ENT2: &str = "0000000000000000000000000000e002";
const AP: &str = "00000000000000000000000000000a91";
const ROLE: &str = "000000000000000000000000000001e1";

fn good_json() -> serde_json::Value {
    serde_json::json!({
        "identities": [
            {"id": A, "name": "ada", "displayName": "Ada", "email": "ada@example.com",
             "attributes": {"department": "Exec", "level": 1, "remote": true}},
            {"id": B, "name": "bob", "displayName": "Bob", "email": "bob@example.com", "managerId": A},
            {"id": C, "name": "cyd", "email": "cyd@example.com", "managerId": B, "active": false,
             "lifecycleState": "leaver"}
        ],
        "sources": [{"id": SRC, "name": "AD", "type": "Directory", "ownerId": A}],
        "accounts": [{"id": ACC, "sourceId": SRC, "identityId": B, "nativeIdentity": "CN=bob",
                      "name": "bob", "disabled": false}],
        "entitlements": [
            {"id": ENT, "name": "Admins", "sourceId": SRC, "attributeName": "memberOf",
             "attributeValue": "CN=Admins", "description": "Domain admins", "privileged": true,
             "ownerId": A, "permissions": [{"rights": ["read", "write"], "target": "dc01"}]},
            {"id": ENT2, "name": "Users", "sourceId": SRC, "attributeName": "memberOf",
             "attributeValue": "CN=Users"}
        ],
        "accessProfiles": [{"id": AP, "name": "Basics", "sourceId": SRC, "ownerId": A,
                            "entitlementIds": [ENT2]}],
        "roles": [{"id": ROLE, "name": "Staff", "ownerId": A, "accessProfileIds": [AP],
                   "entitlementIds": []}],
        "assignments": [
            {"identityId": B, "type": "ENTITLEMENT", "id": ENT, "accountId": ACC},
            {"identityId": B, "type": "ACCESS_PROFILE", "id": AP, "accountId": ACC},
            {"identityId": B, "type": "ROLE", "id": ROLE}
        ]
    })
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn write_json(dir: &Path, v: &serde_json::Value) -> PathBuf {
    write(dir, "org.json", &serde_json::to_string_pretty(v).unwrap())
}

/// Imports `path`, expects a refusal, and checks that nothing changed.
async fn refused(e: &Env, path: &Path) -> String {
    let before = e.store.current_state(true).await.unwrap();
    let runs = e.store.import_runs(100).await.unwrap().len();
    let err = import::import_path(&e.store, &e.clock, path)
        .await
        .unwrap_err();
    let after = e.store.current_state(true).await.unwrap();
    assert_eq!(
        after.dataset, before.dataset,
        "a refused import changed data"
    );
    assert_eq!(after.generation, before.generation);
    assert_eq!(e.store.import_runs(100).await.unwrap().len(), runs);
    assert!(matches!(err, ImportError::Invalid(_)), "{err:?}");
    err.to_string()
}

fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "expected {p:?} in:\n{msg}");
    }
}

#[tokio::test]
async fn a_good_json_document_loads_and_reports() {
    let e = env().await;
    let path = write_json(e.dir.path(), &good_json());
    let r = import::import_path(&e.store, &e.clock, &path)
        .await
        .unwrap();
    assert_eq!(r.summary.identities.added, 3);
    assert_eq!(r.summary.assignments.added, 3);
    assert_eq!(r.lines()[0], "identities: 3 added, 0 changed, 0 removed",);
    let ada = e.store.identity(A.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(ada.attributes["level"], "1");
    assert_eq!(ada.attributes["remote"], "true");
    let cyd = e.store.identity(C.parse().unwrap()).await.unwrap().unwrap();
    assert!(!cyd.active);
    assert_eq!(cyd.display_name, "cyd", "displayName defaults to name");
    let again = import::import_path(&e.store, &e.clock, &path)
        .await
        .unwrap();
    assert!(again.summary.unchanged());
}

#[tokio::test]
async fn a_csv_folder_loads_the_same_as_json() {
    let e = env().await;
    let json_path = write_json(e.dir.path(), &good_json());
    import::import_path(&e.store, &e.clock, &json_path)
        .await
        .unwrap();
    let from_json = e.store.current_state(true).await.unwrap().dataset;

    let other = env().await;
    let d = other.dir.path().join("csv");
    std::fs::create_dir(&d).unwrap();
    write(
        &d,
        "identities.csv",
        &format!(
            "id,name,displayName,email,managerId,active,lifecycleState,department,level,remote\n\
         {A},ada,Ada,ada@example.com,,,,Exec,1,true\n\
         {B},bob,Bob,bob@example.com,{A},,,,,\n\
         {C},cyd,,cyd@example.com,{B},false,leaver,,,\n"
        ),
    );
    write(
        &d,
        "sources.csv",
        &format!("id,name,type,ownerId\n{SRC},AD,Directory,{A}\n"),
    );
    write(
        &d,
        "accounts.csv",
        &format!(
            "id,sourceId,identityId,nativeIdentity,name,disabled\n{ACC},{SRC},{B},CN=bob,bob,no\n"
        ),
    );
    write(
        &d,
        "entitlements.csv",
        &format!(
            "id,name,sourceId,attributeName,attributeValue,description,privileged,ownerId,permissions\n\
         {ENT},Admins,{SRC},memberOf,CN=Admins,Domain admins,yes,{A},\"[{{\"\"rights\"\":[\"\"read\"\",\"\"write\"\"],\"\"target\"\":\"\"dc01\"\"}}]\"\n\
         {ENT2},Users,{SRC},memberOf,CN=Users,,,,\n"
        ),
    );
    write(
        &d,
        "access_profiles.csv",
        &format!("id,name,sourceId,ownerId,entitlementIds\n{AP},Basics,{SRC},{A},{ENT2}\n"),
    );
    write(
        &d,
        "roles.csv",
        &format!("id,name,ownerId,accessProfileIds,entitlementIds\n{ROLE},Staff,{A},{AP},\n"),
    );
    write(
        &d,
        "assignments.csv",
        &format!(
            "identityId,type,id,accountId\n{B},ENTITLEMENT,{ENT},{ACC}\n{B},ACCESS_PROFILE,{AP},{ACC}\n{B},ROLE,{ROLE},\n"
        ),
    );
    let r = import::import_path(&other.store, &other.clock, &d)
        .await
        .unwrap();
    assert_eq!(r.kinds.len(), 7);
    let from_csv = other.store.current_state(true).await.unwrap().dataset;
    assert_eq!(
        recert_store_conformance::normalised(from_csv),
        recert_store_conformance::normalised(from_json)
    );
}

#[tokio::test]
async fn malformed_json_names_the_place() {
    let e = env().await;
    let p = write(e.dir.path(), "bad.json", "{\"identities\": [ {\"id\": ");
    assert_mentions(
        &refused(&e, &p).await,
        &["bad.json", "malformed JSON", "line 1"],
    );
    let mut v = good_json();
    v["identities"][1]["active"] = serde_json::json!("yes");
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &["identities[1].active", "expected a boolean"],
    );
    let mut v = good_json();
    v["identities"][0]["mangerId"] = serde_json::json!(B);
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &["identities[0]", "unknown field `mangerId`"],
    );
    let mut v = good_json();
    v["identities"][2]["id"] = serde_json::json!("not-an-id");
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &["identities[2].id", "'not-an-id' is not an id"],
    );
}

#[tokio::test]
async fn malformed_csv_names_the_line() {
    let e = env().await;
    let d = e.dir.path().join("csv");
    std::fs::create_dir(&d).unwrap();
    write(
        &d,
        "identities.csv",
        &format!("id,name\n{A},ada\n{B},bob,extra\n"),
    );
    assert_mentions(
        &refused(&e, &d).await,
        &["identities.csv line 3", "malformed CSV"],
    );
    write(
        &d,
        "identities.csv",
        &format!("id,name,active\n{A},ada,maybe\n"),
    );
    assert_mentions(
        &refused(&e, &d).await,
        &[
            "identities.csv line 2",
            "field active",
            "'maybe' is not a boolean",
        ],
    );
    write(&d, "identities.csv", &format!("id,name\n{A},ada\n"));
    write(
        &d,
        "sources.csv",
        &format!("id,name,colour\n{SRC},AD,blue\n"),
    );
    assert_mentions(
        &refused(&e, &d).await,
        &["sources.csv line 1", "field colour", "unknown column"],
    );
    std::fs::remove_file(d.join("sources.csv")).unwrap();
    write(&d, "identites.csv", "id,name\n");
    assert_mentions(
        &refused(&e, &d).await,
        &["identites.csv", "unexpected file"],
    );
}

#[tokio::test]
async fn missing_required_fields_are_named() {
    let e = env().await;
    let mut v = good_json();
    v["identities"][1].as_object_mut().unwrap().remove("name");
    v["entitlements"][0]
        .as_object_mut()
        .unwrap()
        .remove("attributeValue");
    v["accounts"][0]["nativeIdentity"] = serde_json::json!("");
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &[
            "org.json: identities[1], field name: required field is missing",
            "org.json: entitlements[0], field attributeValue: required field is missing",
            "org.json: accounts[0], field nativeIdentity: required field is missing",
            "3 problems",
        ],
    );
    let d = e.dir.path().join("csv");
    std::fs::create_dir(&d).unwrap();
    write(&d, "identities.csv", &format!("id,displayName\n{A},Ada\n"));
    assert_mentions(
        &refused(&e, &d).await,
        &[
            "identities.csv line 1",
            "field name",
            "required column is missing",
        ],
    );
    write(&d, "identities.csv", &format!("id,name\n{A},ada\n{B},\n"));
    assert_mentions(
        &refused(&e, &d).await,
        &["identities.csv line 3, field name: required field is missing"],
    );
}

#[tokio::test]
async fn duplicate_ids_are_refused() {
    let e = env().await;
    let mut v = good_json();
    v["identities"][2]["id"] = serde_json::json!(A);
    v["identities"][2]
        .as_object_mut()
        .unwrap()
        .remove("managerId");
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &[
            "org.json: identities[2], field id: duplicate id 000000000000000000000000000000a1: also at ",
            "org.json: identities[0]",
        ],
    );
    let mut v = good_json();
    let dup = v["assignments"][0].clone();
    v["assignments"].as_array_mut().unwrap().push(dup);
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &[
            "assignments[3]",
            "duplicate assignment: also at ",
            "org.json: assignments[0]",
        ],
    );
}

#[tokio::test]
async fn references_to_unknown_records_are_refused() {
    let e = env().await;
    let unknown = "ffffffffffffffffffffffffffffffff";
    let mut v = good_json();
    v["identities"][1]["managerId"] = serde_json::json!(unknown);
    v["accounts"][0]["sourceId"] = serde_json::json!(unknown);
    v["assignments"][0]["id"] = serde_json::json!(unknown);
    v["roles"][0]["accessProfileIds"] = serde_json::json!([unknown]);
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &[
            "identities[1], field managerId: refers to unknown identity ffffffffffffffffffffffffffffffff",
            "accounts[0], field sourceId: refers to unknown source",
            "assignments[0], field id: refers to unknown entitlement",
            "roles[0], field accessProfileIds: refers to unknown access profile",
        ],
    );
    // An account that belongs to someone else, and a role granted through an account.
    let mut v = good_json();
    v["assignments"][0]["identityId"] = serde_json::json!(C);
    v["assignments"][2]["accountId"] = serde_json::json!(ACC);
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &[
            "assignments[0], field accountId: account 000000000000000000000000000acc01 belongs to identity 000000000000000000000000000000b2, not to identity 000000000000000000000000000000c3",
            "assignments[2], field accountId: a ROLE is granted to the identity",
        ],
    );
}

#[tokio::test]
async fn a_manager_cycle_is_refused() {
    let e = env().await;
    let mut v = good_json();
    v["identities"][0]["managerId"] = serde_json::json!(C);
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &[
            "field managerId: managers form a cycle: 000000000000000000000000000000a1 -> 000000000000000000000000000000c3 -> 000000000000000000000000000000b2 -> 000000000000000000000000000000a1",
        ],
    );
}

#[tokio::test]
async fn an_invalid_email_is_refused() {
    let e = env().await;
    let mut v = good_json();
    v["identities"][1]["email"] = serde_json::json!("bob at example");
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &["org.json: identities[1], field email: 'bob at example' is not a valid email address"],
    );
}

#[tokio::test]
async fn an_unknown_assignment_type_is_refused() {
    let e = env().await;
    let mut v = good_json();
    v["assignments"][0]["type"] = serde_json::json!("GROUP");
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &["assignments[0].type", "unknown variant `GROUP`"],
    );
    let d = e.dir.path().join("csv");
    std::fs::create_dir(&d).unwrap();
    write(
        &d,
        "assignments.csv",
        &format!("identityId,type,id\n{B},GROUP,{ENT}\n"),
    );
    assert_mentions(
        &refused(&e, &d).await,
        &["assignments.csv line 2, field type: 'GROUP' is not an assignment type"],
    );
}

#[tokio::test]
async fn a_bad_file_after_a_good_one_changes_nothing() {
    let e = env().await;
    let p = write_json(e.dir.path(), &good_json());
    import::import_path(&e.store, &e.clock, &p).await.unwrap();
    // A later file that would change a lot, with one bad reference at the end.
    let mut v = good_json();
    v["identities"][0]["displayName"] = serde_json::json!("Ada Changed");
    v["assignments"].as_array_mut().unwrap().truncate(1);
    v["assignments"][0]["accountId"] = serde_json::json!("ffffffffffffffffffffffffffffffff");
    let p = write_json(e.dir.path(), &v);
    assert_mentions(&refused(&e, &p).await, &["refers to unknown account"]);
}

#[tokio::test]
async fn an_access_profile_bundles_its_own_source_only() {
    let e = env().await;
    let mut v = good_json();
    let other_src = "0000000000000000000000000000052c";
    v["sources"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": other_src, "name": "HR"}));
    v["accessProfiles"][0]["sourceId"] = serde_json::json!(other_src);
    v["assignments"].as_array_mut().unwrap().remove(1);
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &[
            "accessProfiles[0], field entitlementIds: entitlement 0000000000000000000000000000e002 is on source",
        ],
    );
}

#[tokio::test]
async fn an_unreadable_path_is_an_error_not_a_panic() {
    let e = env().await;
    let err = import::import_path(&e.store, &e.clock, &e.dir.path().join("missing.json"))
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::Read { .. }));
    assert!(err.to_string().contains("missing.json"), "{err}");
}

#[tokio::test]
async fn a_nul_character_is_refused_with_its_place() {
    let e = env().await;
    let mut v = good_json();
    v["identities"][1]["displayName"] = serde_json::json!("Bob\u{0}");
    let p = write_json(e.dir.path(), &v);
    assert_mentions(
        &refused(&e, &p).await,
        &["identities[1].displayName", "NUL character"],
    );
    let d = e.dir.path().join("csv");
    std::fs::create_dir(&d).unwrap();
    write(
        &d,
        "identities.csv",
        &format!("id,name\n{A},ada\n{B},b\u{0}b\n"),
    );
    assert_mentions(
        &refused(&e, &d).await,
        &["identities.csv line 3", "NUL character"],
    );
}
