//! The store conformance suite: the behaviour every [`Store`] backend must show, written once and
//! run unchanged against SQLite and PostgreSQL. Each backend's tests call
//! [`conformance_tests!`] with an expression that yields a fresh, migrated, empty store.
//!
//! The suite drives the store the way recert does: through the core's import, so that the plans
//! it applies are the real ones.

mod filters;
mod fixture;
mod item_keys;
mod suite;
mod suite_auth;
mod suite_awf;
mod suite_campaigns;
mod suite_closing;
mod suite_jobs;
mod suite_reassign;
mod suite_reports;
mod suite_reviews;
mod suite_web;

pub use filters::{FILTER_CASES, FILTER_ROWS, filter_column};
pub use fixture::{id as fixture_id, manager_generation, small_org};
pub use item_keys::{ITEMS_BEFORE_KEYS, KEYS_CERTIFICATION, items_before_keys_are_filled_in};
pub use suite::*;
pub use suite_auth::*;
pub use suite_awf::*;
pub use suite_campaigns::*;
pub use suite_closing::*;
pub use suite_jobs::*;
pub use suite_reassign::*;
pub use suite_reports::*;
pub use suite_reviews::*;
pub use suite_web::*;

/// The identity the suites' changes are made by: the small organisation's first person.
pub const ACTOR: recert_domain::Id = fixture::id(1, 1);

/// Expands to one `#[tokio::test]` per conformance case. `$fresh` is an async expression giving
/// `Option<(S, G)>`: a fresh store and a guard kept alive for the test (`None` skips the test).
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        $crate::conformance_tests!(@cases $fresh;
            migrate_is_idempotent,
            import_then_read_back,
            reimport_changes_nothing,
            newer_import_applies_the_difference,
            removed_access_keeps_its_history,
            removed_record_can_come_back,
            stale_plan_is_refused_whole,
            kinds_left_out_are_kept,
            text_survives_any_characters,
            demo_organisation_round_trips,
            api_clients_lifecycle,
            signing_keys_rotate,
            jobs_run_once_in_order,
            jobs_are_claimed_once_under_contention,
            jobs_lease_expiry_hands_the_job_over,
            jobs_retry_then_give_up,
            jobs_abandoned_on_the_last_attempt_fail,
            jobs_go_only_to_runners_of_their_kind_and_attempt,
            campaign_manager_generation,
            campaign_generated_once_under_contention,
            campaign_self_review_goes_up,
            campaign_source_owner_and_roles,
            campaign_life_activate_complete_delete,
            campaign_generation_failure_is_an_alert,
            campaign_templates_generate_and_schedule,
            remediation_follows_deliveries_and_imports,
            campaign_completes_with_its_last_sign_off,
            campaign_reports_of_each_type,
            campaign_report_spans_chunks,
            reviews_certification_lists,
            reviews_item_lists,
            reviews_item_keys_follow_generation_and_moves,
            reviews_reassign_items,
            reviews_tasks,
            awf_rows_are_numbered_and_filtered,
            awf_changes_are_logged_and_sign_rows_off,
            awf_overdue_campaigns_expire,
            web_users_and_their_logins,
            web_sessions_expire_and_end,
        );
    };
    (@cases $fresh:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, _guard)) = $fresh.await else { return };
                $crate::$case(&store).await;
            }
        )*
    };
}
