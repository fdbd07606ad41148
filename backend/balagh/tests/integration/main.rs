//! Integration tests of the store and the HTTP API. Every test runs twice: on SQLite and on
//! PostgreSQL, each time on a database of its own.

mod harness;

mod accounts;
mod api;
mod authz;
mod devices;
mod open311;
mod outbound;
mod pages;
mod photos;
mod pseudonyms;
mod push;
mod sessions;
mod sla;
mod stats;
mod store;
mod tickets;
