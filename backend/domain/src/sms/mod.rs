//! The SMS conversation (issue 21), pure: which language a resident writes in, the commands
//! that work at any point (`STATUS <reference>`, `STOP`, help), and the short exchange that
//! asks for the service, the place and a description before a report is made. The HTTP
//! glue looks places up, creates the report and sends the answers.

mod conversation;
mod words;

pub use conversation::{
    ChosenPlace, Conversation, Draft, Menu, MenuGroup, Msg, Outcome, PlaceQuery, Step,
};
pub use words::{Command, SmsLanguage, command, detect};
