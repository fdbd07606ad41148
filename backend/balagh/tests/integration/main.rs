//! Integration tests of the store and the HTTP API. Every test runs twice: on SQLite and on
//! PostgreSQL, each time on a database of its own.

mod harness;

/// The outsider of issue 16, shared with `balagh-disclosure-bench`.
#[path = "../../../../tests/disclosure/attack.rs"]
mod attack;

mod accounts;
mod api;
mod authz;
mod commune_settings;
mod devices;
mod disclosure;
mod my_reports;
mod open311;
mod operator_pages;
mod outbound;
mod pages;
mod photos;
mod pseudonyms;
mod push;
mod resident_app;
mod resident_follow;
mod screens;
mod service_groups;
mod sessions;
mod sla;
mod sms;
mod sms_followup;
mod staff_admin_pages;
mod staff_pages;
mod stats;
mod store;
mod tickets;
mod two_communes;
