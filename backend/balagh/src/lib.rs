//! The `balagh` binary's library: configuration, the commands, and the server's start-up and
//! shutdown. Tests start the application through [`server::Application`] on port 0.

pub mod accounts;
pub mod config;
pub mod database;
pub mod demo;
pub mod gazetteer;
pub mod generate;
pub mod import;
pub mod open311_keys;
pub mod photos_config;
pub mod push_config;
pub mod push_delivery;
pub mod replicas_config;
pub mod screens_config;
pub mod security_config;
pub mod server;
pub mod sms_config;
pub mod sms_delivery;
pub mod stats_config;
pub mod telemetry;
pub mod workers;
