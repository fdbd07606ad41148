//! Telling residents: push registrations (areas of interest, quiet hours), service notices
//! (planned interruptions, collection delays, diversions) and the words of each push.
//!
//! Pure rules only; delivery (FCM, Web Push, the outbox) lives outside the domain.

pub mod area;
pub mod message;
pub mod notice;
pub mod quiet;

pub use area::{AreaOfInterest, MAX_AREAS_OF_INTEREST, NoticeArea};
pub use message::{PushText, notice_message, status_message};
pub use notice::{NoticeKind, NoticeText, NoticeTexts, NoticeWindow};
pub use quiet::QuietHours;
