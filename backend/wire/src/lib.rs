//! The JSON shapes of Balagh's `/api/v1`, shared by the server and the mobile SDK so the two
//! cannot drift apart. Times are RFC 3339 strings in UTC; coordinates WGS84 degrees.

mod push;
pub use push::*;
mod service_media;
pub use service_media::*;
mod resident;
pub use resident::*;
mod services;
pub use services::*;
mod problem;
pub use problem::*;
mod accounts;
pub use accounts::*;
mod tickets;
pub use tickets::*;
mod operators;
pub use operators::*;
mod photos;
pub use photos::*;
