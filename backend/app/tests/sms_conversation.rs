//! The SMS conversation as a use case, without a gateway's HTTP: a resident reports a
//! street light out by SMS, then asks for its status; a repeat of a message is dropped.

mod common;

use balagh_app::sms::conversation::{self, Handled, Incoming};
use balagh_domain::{Channel, ReportStatus};
use balagh_store::contract::fixture::Catalogue;
use balagh_store::{SmsGateway, Ts};
use uuid::Uuid;

const PHONE: &str = "+212600000001";

async fn gateway(app: &balagh_app::App) -> SmsGateway {
    let gateway = SmsGateway {
        id: Uuid::now_v7(),
        jurisdiction_id: Catalogue::load().jurisdiction.id.to_string(),
        kind: balagh_app::sms::ANDROID_SMS_GATEWAY.into(),
        name: "Accueil".into(),
        secret: "secret".into(),
        inbound_token: Uuid::new_v4().simple().to_string(),
        send_url: Some("https://sms.example.ma/send".into()),
        send_username: None,
        send_password: None,
        public_number: None,
        per_number_per_hour: 100,
        per_gateway_per_hour: 1000,
        created_by: None,
        created_at: Ts::now(),
        disabled_at: None,
    };
    app.store().create_sms_gateway(&gateway).await.unwrap();
    gateway
}

fn incoming(text: &str, key: &str) -> Incoming {
    Incoming {
        phone: PHONE.into(),
        text: text.into(),
        dedupe_key: key.as_bytes().to_vec(),
    }
}

/// The one answer to a message.
async fn say(app: &balagh_app::App, gateway: &SmsGateway, text: &str, key: &str) -> String {
    match conversation::handle(app, gateway, incoming(text, key)).await {
        Ok(Handled::Answered(mut answers)) if answers.len() == 1 => answers.remove(0),
        other => panic!("{text}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_makes_a_report_and_answers_its_status() {
    let f = common::fixture().await;
    let app = &f.app;
    let places = balagh_domain::places::parse_places(include_str!(
        "../../balagh/demo/tetouan/places.geojson"
    ))
    .unwrap();
    let jurisdiction = Catalogue::load().jurisdiction.id;
    app.store()
        .upsert_places(&jurisdiction, &places)
        .await
        .unwrap();
    let gateway = gateway(app).await;

    let menu = say(app, &gateway, "Bonjour", "m1").await;
    assert!(menu.contains("2 Éclairage"), "{menu}");
    assert!(say(app, &gateway, "2", "m2").await.starts_with("Où ?"));
    // The gateway's retry of a message already acted on is not taken as the place.
    let repeat = conversation::handle(app, &gateway, incoming("2", "m2")).await;
    assert!(matches!(repeat, Ok(Handled::Duplicate)), "{repeat:?}");
    let asked = say(app, &gateway, "Place Hassan II", "m3").await;
    assert!(asked.contains("Place Hassan II"), "{asked}");
    let created = say(app, &gateway, "Le lampadaire est éteint", "m4").await;
    assert!(created.starts_with("Merci. Signalement TET-"), "{created}");
    let reference = created.split_whitespace().nth(2).unwrap().to_owned();

    let id = app
        .store()
        .report_id_by_reference(&reference)
        .await
        .unwrap()
        .expect("the report the conversation made");
    let report = app.store().report(id).await.unwrap().unwrap();
    assert_eq!(report.channel, Channel::Sms);
    assert_eq!(report.service_code.as_str(), "light_out");
    assert_eq!(report.status, ReportStatus::New, "routed to the contract");
    let contact = report.contact.unwrap();
    assert_eq!(contact["phone"], PHONE);
    assert_eq!(contact["sms_gateway"], gateway.id.to_string());
    assert!(balagh_app::sms::told_by_sms(Some(&contact)));

    let status = say(app, &gateway, &format!("STATUT {reference}"), "m5").await;
    assert_eq!(status, format!("Signalement {reference} : reçu."));
    let unknown = say(app, &gateway, "STATUT TET-NOPE1234", "m6").await;
    assert_eq!(unknown, "Aucun signalement TET-NOPE1234.");
}
