//! HTTP handlers, one module per resource.

pub mod accounts;
pub mod admin;
pub mod catalog_admin;
pub mod cursor;
pub mod devices;
pub mod health;
pub mod my_reports;
pub mod open_data;
pub mod photos;
pub mod places;
pub mod push;
pub mod reports;
pub mod request_schemas;
pub mod screens;
pub mod service_groups;
pub mod service_media;
pub mod services;
pub mod sla;
pub mod sms_gateways;
pub mod staff;
pub mod statement_csv;
pub mod stats;
pub mod tickets;
pub mod webhooks;
