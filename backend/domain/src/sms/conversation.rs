//! The exchange itself: service, place, description, then a report.

use super::words::{Command, SmsLanguage, command, detect, words};
use crate::report::Description;
use crate::service_group::{ServiceGroupDefinition, display_rank};
use crate::{Language, LocalizedText};
use serde::{Deserialize, Serialize};

/// Where a conversation stands (saved between messages as JSON).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Conversation {
    pub language: Option<SmsLanguage>,
    pub step: Step,
    /// The service chosen (its code).
    pub service: Option<String>,
    pub place: Option<ChosenPlace>,
    /// References of the reports made in this conversation, oldest first (the last few).
    #[serde(default)]
    pub reports: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Nothing asked yet.
    #[default]
    Start,
    Service,
    Place,
    Description,
}

/// A place the gazetteer or the bus network found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChosenPlace {
    pub label: String,
    pub lat: f64,
    pub lon: f64,
}

/// The services a resident may pick by SMS, grouped as the numbered menu shows them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Menu {
    pub groups: Vec<MenuGroup>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MenuGroup {
    /// The service group (`waste`, `lighting`, `transport`, …).
    pub group: String,
    /// The commune's names for a group it added; `None` for the built-in ones, whose SMS
    /// words (short, and in Darija too) are in the catalogues.
    pub name: Option<LocalizedText>,
    /// The service a report gets when only the group is known.
    pub default_service: String,
    /// `(service code, its keywords)`: a keyword picks that service directly.
    pub services: Vec<(String, Vec<String>)>,
}

/// What the resident is told (the glue turns it into words of the conversation's language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// Welcome and the numbered menu of service groups.
    AskService,
    /// The answer named no service: the menu again.
    ServiceNotUnderstood,
    AskPlace,
    PlaceNotFound,
    AskDescription,
    Help,
    /// The language could not be told: a short help in French and Arabic.
    UnknownLanguage,
    TooLong,
    Stopped,
    StatusUsage,
}

/// A place to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceQuery {
    /// A landmark, street or district, as written.
    Named(String),
    /// A bus line (its number) and a stop (its number on the line or its code).
    Bus { line: String, stop: String },
}

/// A report ready for the intake.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub service: String,
    pub place: ChosenPlace,
    pub description: Description,
}

/// What to do with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Say(Msg),
    /// Look the place up, then call [`Conversation::place_found`].
    FindPlace(PlaceQuery),
    /// Make the report, then call [`Conversation::submitted`].
    Submit(Draft),
    /// Answer with the public status of this reference.
    Status(String),
    /// The resident asked for no more SMS.
    Stop,
}

/// Words naming a service group, in French, Arabic and Darija (both scripts), folded as
/// [`crate::places::fold`] folds them.
const GROUP_WORDS: &[(&str, &[&str])] = &[
    (
        "waste",
        &[
            "zbel",
            "zbal",
            "zebel",
            "lazbal",
            "lazbel",
            "azbal",
            "poubelle",
            "poubelles",
            "ordures",
            "dechets",
            "dechet",
            "nfayat",
            "زبل",
            "الزبل",
            "ازبال",
            "الازبال",
            "نفايات",
            "النفايات",
            "حاويه",
            "الحاويه",
            "ميكا",
        ],
    ),
    (
        "lighting",
        &[
            "daw",
            "dow",
            "dou",
            "tfa",
            "tafi",
            "tafya",
            "mtafi",
            "lampadaire",
            "lampadaires",
            "eclairage",
            "lumiere",
            "lampe",
            "poteau",
            "ضو",
            "الضو",
            "ضوء",
            "الضوء",
            "اناره",
            "الاناره",
            "طفا",
            "طافي",
            "مطفي",
            "مصباح",
            "بوطو",
        ],
    ),
    (
        "transport",
        &[
            "tobis",
            "tubis",
            "tobiss",
            "lkar",
            "bus",
            "autobus",
            "طوبيس",
            "الطوبيس",
            "طبيس",
            "حافله",
            "الحافله",
            "الكار",
            "كار",
        ],
    ),
];

const BUS_WORDS: &[&str] = &[
    "ligne",
    "line",
    "bus",
    "autobus",
    "tobis",
    "tubis",
    "lkar",
    "خط",
    "الخط",
    "طوبيس",
    "الطوبيس",
    "حافله",
    "الحافله",
];

impl Menu {
    /// The menu of `(code, group, keywords)` services a resident may pick by SMS, numbered
    /// in the commune's display order of `definitions`; each group's default is the service
    /// whose keywords name the group most (a street light that is out, an overflowing bin),
    /// else its first.
    pub fn build(
        services: Vec<(String, String, Vec<String>)>,
        definitions: &[ServiceGroupDefinition],
    ) -> Menu {
        let mut groups: Vec<MenuGroup> = Vec::new();
        for (code, group, keywords) in services {
            match groups.iter_mut().find(|g| g.group == group) {
                Some(g) => g.services.push((code, keywords)),
                None => groups.push(MenuGroup {
                    name: definitions
                        .iter()
                        .find(|d| d.code.as_str() == group && !d.code.is_built_in())
                        .map(|d| d.name.clone()),
                    group,
                    default_service: code.clone(),
                    services: vec![(code, keywords)],
                }),
            }
        }
        // Stable: groups the definitions do not know keep catalogue order, last.
        groups.sort_by_key(|g| display_rank(definitions, &g.group).0);
        for group in &mut groups {
            let words: &[&str] = GROUP_WORDS
                .iter()
                .find(|(g, _)| *g == group.group)
                .map_or(&[], |(_, w)| w);
            let score = |keywords: &[String]| {
                keywords
                    .iter()
                    .filter(|k| words.contains(&crate::places::fold(k).as_str()))
                    .count()
            };
            let mut best = (0, group.default_service.clone());
            for (code, keywords) in &group.services {
                let s = score(keywords);
                if s > best.0 {
                    best = (s, code.clone());
                }
            }
            group.default_service = best.1;
        }
        Menu { groups }
    }

    /// The service a message names: a service's own keyword first, then a group's words,
    /// then a menu number.
    pub fn service_in(&self, text: &str) -> Option<String> {
        let words = words(text);
        let has = |keyword: &str| {
            let keyword = crate::places::fold(keyword);
            !keyword.is_empty()
                && words
                    .iter()
                    .any(|w| *w == keyword || w.strip_prefix("ال") == Some(keyword.as_str()))
        };
        for group in &self.groups {
            if let Some((code, _)) = group
                .services
                .iter()
                .find(|(_, keywords)| keywords.iter().any(|k| has(k)))
            {
                return Some(code.clone());
            }
        }
        for group in &self.groups {
            let named = GROUP_WORDS
                .iter()
                .find(|(g, _)| *g == group.group)
                .is_some_and(|(_, list)| list.iter().any(|w| has(w)))
                || group.name.as_ref().is_some_and(|name| {
                    // A one-word name the commune gave ("Parcs") names its group.
                    Language::ALL.into_iter().any(|l| has(name.get(l)))
                });
            if named {
                return Some(group.default_service.clone());
            }
        }
        let number: usize = text.trim().trim_end_matches(['.', ')']).parse().ok()?;
        self.groups
            .get(number.checked_sub(1)?)
            .map(|g| g.default_service.clone())
    }
}

/// A bus line and stop in a message (`ligne 7 arrêt 3`, `tobis 7 3`, `L7 S03`, `خط 7 محطة 3`).
fn bus_query(text: &str) -> Option<PlaceQuery> {
    let words = words(text);
    let at = words.iter().position(|w| {
        BUS_WORDS.contains(&w.as_str())
            || (w.len() > 1 && w.starts_with('l') && w[1..].chars().all(|c| c.is_ascii_digit()))
    })?;
    let mut rest = words[at..].iter();
    let first = rest.next()?;
    let line = if first.starts_with('l') && first[1..].chars().all(|c| c.is_ascii_digit()) {
        first[1..].to_owned()
    } else {
        rest.find(|w| w.chars().all(|c| c.is_ascii_digit()))?
            .clone()
    };
    let stop = rest
        .find(|w| w.chars().any(|c| c.is_ascii_digit()))?
        .to_uppercase();
    (!line.is_empty()).then_some(PlaceQuery::Bus { line, stop })
}

impl Conversation {
    /// Acts on one message no longer than `max_chars`.
    pub fn handle(&mut self, text: &str, menu: &Menu, max_chars: usize) -> Outcome {
        if let Some(language) = detect(text)
            && (self.language.is_none() || self.step == Step::Start)
        {
            self.language = Some(language);
        }
        if text.chars().count() > max_chars {
            return Outcome::Say(Msg::TooLong);
        }
        match command(text) {
            Some(Command::Stop) => return Outcome::Stop,
            Some(Command::Help) => return Outcome::Say(Msg::Help),
            Some(Command::Status(Some(reference))) => return Outcome::Status(reference),
            Some(Command::Status(None)) => return Outcome::Say(Msg::StatusUsage),
            None => {}
        }
        if self.language.is_none() {
            return Outcome::Say(Msg::UnknownLanguage);
        }
        match self.step {
            Step::Start | Step::Service => match menu.service_in(text) {
                Some(service) => {
                    self.service = Some(service);
                    self.step = Step::Place;
                    Outcome::Say(Msg::AskPlace)
                }
                None if self.step == Step::Start => {
                    self.step = Step::Service;
                    Outcome::Say(Msg::AskService)
                }
                None => Outcome::Say(Msg::ServiceNotUnderstood),
            },
            Step::Place => Outcome::FindPlace(
                bus_query(text).unwrap_or_else(|| PlaceQuery::Named(text.trim().to_owned())),
            ),
            Step::Description => match (&self.service, &self.place, Description::parse(text)) {
                (Some(service), Some(place), Ok(description)) => Outcome::Submit(Draft {
                    service: service.clone(),
                    place: place.clone(),
                    description,
                }),
                (Some(_), Some(_), Err(_)) => Outcome::Say(Msg::AskDescription),
                _ => {
                    *self = Conversation {
                        language: self.language,
                        ..Conversation::default()
                    };
                    Outcome::Say(Msg::AskService)
                }
            },
        }
    }

    /// The place looked up for the last message (`None`: nothing matched).
    pub fn place_found(&mut self, place: Option<ChosenPlace>) -> Msg {
        match place {
            Some(place) => {
                self.place = Some(place);
                self.step = Step::Description;
                Msg::AskDescription
            }
            None => Msg::PlaceNotFound,
        }
    }

    /// The report was made: the conversation starts over (same language).
    pub fn submitted(&mut self, reference: &str) {
        let mut reports = std::mem::take(&mut self.reports);
        reports.push(reference.to_owned());
        if reports.len() > 5 {
            reports.remove(0);
        }
        *self = Conversation {
            language: self.language,
            reports,
            ..Conversation::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu() -> Menu {
        Menu {
            groups: vec![
                MenuGroup {
                    name: None,
                    group: "waste".into(),
                    default_service: "waste_bin_overflow".into(),
                    services: vec![("waste_street_not_swept".into(), vec!["balayage".into()])],
                },
                MenuGroup {
                    name: None,
                    group: "lighting".into(),
                    default_service: "light_out".into(),
                    services: vec![("light_flickering".into(), vec!["clignote".into()])],
                },
                MenuGroup {
                    name: None,
                    group: "transport".into(),
                    default_service: "bus_stop_damaged".into(),
                    services: vec![],
                },
            ],
        }
    }

    fn place() -> ChosenPlace {
        ChosenPlace {
            label: "Place Hassan II".into(),
            lat: 35.57,
            lon: -5.37,
        }
    }

    fn service(code: &str, group: &str, keywords: &[&str]) -> (String, String, Vec<String>) {
        (
            code.to_owned(),
            group.to_owned(),
            keywords.iter().map(|k| (*k).to_owned()).collect(),
        )
    }

    fn built_menu(
        extra: Vec<(String, String, Vec<String>)>,
        definitions: Vec<ServiceGroupDefinition>,
    ) -> Menu {
        let s = service;
        let services: Vec<_> = vec![
            s("bus_stop_damaged", "transport", &["abri"]),
            s("light_flickering", "lighting", &["clignote"]),
            s("light_out", "lighting", &["lampe", "éclairage", "إنارة"]),
            s("parks", "green", &[]),
            s("waste_missed", "waste", &["collecte"]),
            s("waste_bin_overflow", "waste", &["poubelle", "حاوية"]),
        ]
        .into_iter()
        .chain(extra)
        .collect();
        Menu::build(services, &definitions)
    }

    #[test]
    fn the_menu_follows_the_communes_group_order_with_their_usual_service() {
        let menu = built_menu(vec![], ServiceGroupDefinition::built_in());
        let groups: Vec<(&str, &str)> = menu
            .groups
            .iter()
            .map(|g| (g.group.as_str(), g.default_service.as_str()))
            .collect();
        assert_eq!(
            groups,
            [
                ("waste", "waste_bin_overflow"),
                ("lighting", "light_out"),
                ("transport", "bus_stop_damaged"),
                ("green", "parks")
            ]
        );
    }

    #[test]
    fn a_group_the_commune_added_is_numbered_from_the_data_and_named_by_its_name() {
        let mut definitions = ServiceGroupDefinition::built_in();
        definitions.push(ServiceGroupDefinition {
            code: crate::ServiceGroup::parse("parks").unwrap(),
            name: LocalizedText {
                fr: "Parcs".into(),
                ar: Some("الحدائق".into()),
                en: None,
            },
            icon: None,
            // Before transport: the commune's order, not a fixed list.
            order: 25,
        });
        let extra = vec![service("broken_bench", "parks", &["banc"])];
        let menu = built_menu(extra, definitions);
        let order: Vec<&str> = menu.groups.iter().map(|g| g.group.as_str()).collect();
        assert_eq!(order, ["waste", "lighting", "parks", "transport", "green"]);
        assert_eq!(menu.groups[2].name.as_ref().unwrap().fr, "Parcs");
        assert!(
            menu.groups[0].name.is_none(),
            "built-ins keep their SMS words"
        );
        assert_eq!(menu.service_in("3").as_deref(), Some("broken_bench"));
        assert_eq!(
            menu.service_in("les parcs").as_deref(),
            Some("broken_bench")
        );
        assert_eq!(menu.service_in("الحدائق").as_deref(), Some("broken_bench"));
        assert_eq!(menu.service_in("4").as_deref(), Some("bus_stop_damaged"));
    }

    #[test]
    fn a_french_conversation_ends_with_a_draft() {
        let mut c = Conversation::default();
        let m = menu();
        assert_eq!(c.handle("Bonjour", &m, 300), Outcome::Say(Msg::AskService));
        assert_eq!(c.language, Some(SmsLanguage::Fr));
        assert_eq!(
            c.handle("7", &m, 300),
            Outcome::Say(Msg::ServiceNotUnderstood)
        );
        assert_eq!(c.handle("2", &m, 300), Outcome::Say(Msg::AskPlace));
        assert_eq!(c.service.as_deref(), Some("light_out"));
        assert_eq!(
            c.handle("Place Hassan II", &m, 300),
            Outcome::FindPlace(PlaceQuery::Named("Place Hassan II".into()))
        );
        assert_eq!(c.place_found(None), Msg::PlaceNotFound);
        assert_eq!(c.place_found(Some(place())), Msg::AskDescription);
        let Outcome::Submit(draft) = c.handle("Le lampadaire est éteint", &m, 300) else {
            panic!("no draft");
        };
        assert_eq!(draft.service, "light_out");
        assert_eq!(draft.place, place());
        c.submitted("TET-AAAA0000");
        assert_eq!(c.step, Step::Start);
        assert_eq!(c.reports, vec!["TET-AAAA0000".to_owned()]);
        assert_eq!(c.language, Some(SmsLanguage::Fr));
    }

    #[test]
    fn darija_keywords_pick_the_service_at_once() {
        let m = menu();
        let mut c = Conversation::default();
        assert_eq!(
            c.handle("salam, daw tfa", &m, 300),
            Outcome::Say(Msg::AskPlace)
        );
        assert_eq!(c.language, Some(SmsLanguage::Darija));
        assert_eq!(c.service.as_deref(), Some("light_out"));
        let mut c = Conversation::default();
        assert_eq!(c.handle("ضو طفا", &m, 300), Outcome::Say(Msg::AskPlace));
        assert_eq!(c.language, Some(SmsLanguage::Ar));
        let mut c = Conversation::default();
        c.handle("slm kayn zbel", &m, 300);
        assert_eq!(c.service.as_deref(), Some("waste_bin_overflow"));
        let mut c = Conversation::default();
        c.handle("الزبل", &m, 300);
        assert_eq!(c.service.as_deref(), Some("waste_bin_overflow"));
        let mut c = Conversation::default();
        c.handle("le lampadaire clignote", &m, 300);
        assert_eq!(c.service.as_deref(), Some("light_flickering"));
    }

    #[test]
    fn bus_lines_and_stops_are_read_in_every_script() {
        let m = menu();
        for text in ["ligne 7 arrêt 3", "tobis 7 f 3", "L7 3", "خط 7 محطة 3"] {
            let mut c = Conversation {
                language: Some(SmsLanguage::Fr),
                step: Step::Place,
                service: Some("bus_stop_damaged".into()),
                ..Conversation::default()
            };
            assert_eq!(
                c.handle(text, &m, 300),
                Outcome::FindPlace(PlaceQuery::Bus {
                    line: "7".into(),
                    stop: "3".into()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_language_too_long_and_commands() {
        let m = menu();
        let mut c = Conversation::default();
        assert_eq!(
            c.handle("xqzw vbnm", &m, 300),
            Outcome::Say(Msg::UnknownLanguage)
        );
        assert_eq!(
            c.handle(&"a".repeat(301), &m, 300),
            Outcome::Say(Msg::TooLong)
        );
        assert_eq!(c.handle("STOP", &m, 300), Outcome::Stop);
        assert_eq!(c.handle("aide", &m, 300), Outcome::Say(Msg::Help));
        assert_eq!(
            c.handle("STATUS TET-AB12CD34", &m, 300),
            Outcome::Status("TET-AB12CD34".into())
        );
        assert_eq!(c.step, Step::Start);
    }
}
