//! Open311 GeoReport v2 over real HTTP, on both databases: every endpoint in JSON and XML
//! (XML parsed, shapes and error bodies checked), form bodies as clients really send them,
//! and a FixMyStreet-style client's round trip.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};

// --- XML ------------------------------------------------------------------------------

/// An element: its name, its text, its child elements.
#[derive(Debug, Clone, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn get(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn child(&self, name: &str) -> &Node {
        self.get(name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>: {self:?}", self.name))
    }

    fn all(&self, name: &str) -> Vec<&Node> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    fn text_of(&self, name: &str) -> &str {
        &self.child(name).text
    }

    fn names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

/// Parses a whole document; it must start with an XML declaration.
fn parse_xml(body: &str) -> Node {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut declared = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Decl(_) => declared = true,
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                ..Node::default()
            }),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(Node {
                name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                ..Node::default()
            }),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().unwrap();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .expect("predefined entity")
                            .to_owned()
                    }
                };
                stack.last_mut().unwrap().text.push_str(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(declared, "no XML declaration: {body}");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "one document element");
    let mut root = root.children.remove(0);
    trim(&mut root);
    root
}

fn trim(node: &mut Node) {
    if !node.children.is_empty() {
        node.text = node.text.trim().to_owned();
    }
    node.children.iter_mut().for_each(trim);
}

async fn xml(response: reqwest::Response, status: u16) -> Node {
    assert_eq!(
        response.headers()["content-type"],
        "text/xml; charset=utf-8"
    );
    let got = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    parse_xml(&body)
}

async fn json_body(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let got = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The spec's error document: `<errors><error><code/><description/></error>…</errors>`.
async fn xml_errors(response: reqwest::Response, status: u16) -> Vec<String> {
    let root = xml(response, status).await;
    assert_eq!(root.name, "errors");
    assert!(!root.children.is_empty());
    root.children
        .iter()
        .map(|e| {
            assert_eq!(e.name, "error");
            assert_eq!(e.names(), vec!["code", "description"]);
            assert_eq!(e.text_of("code"), status.to_string());
            e.text_of("description").to_owned()
        })
        .collect()
}

/// The same as a JSON array of `{code, description}`.
async fn json_errors(response: reqwest::Response, status: u16) -> Vec<String> {
    let body = json_body(response, status).await;
    let errors = body.as_array().expect("an array of errors");
    assert!(!errors.is_empty());
    errors
        .iter()
        .map(|e| {
            assert_eq!(e["code"], status);
            e["description"].as_str().unwrap().to_owned()
        })
        .collect()
}

// --- requests -------------------------------------------------------------------------

/// Percent-encodes everything but unreserved characters (so brackets travel as %5B %5D).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl TestApp {
    async fn o311(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/open311/v2/{path}")))
            .send()
            .await
            .unwrap()
    }

    async fn o311_post(&self, path: &str, body: String) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/open311/v2/{path}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// An Open311 key issued by a staff administrator: (id, key).
    async fn open311_key(&self, name: &str) -> (String, String) {
        let admin = self.user(Role::StaffAdmin, None).await;
        let created = self
            .post_as(
                &admin.token,
                "/api/v1/staff/open311-keys",
                None,
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(created.status(), 201);
        let body: Value = created.json().await.unwrap();
        (
            body["id"].as_str().unwrap().to_owned(),
            body["key"].as_str().unwrap().to_owned(),
        )
    }
}

/// A minimal valid request at `point`.
fn basic(key: &str, service: &str, (lat, lon): (f64, f64)) -> Vec<(String, String)> {
    vec![
        ("api_key".into(), key.into()),
        ("service_code".into(), service.into()),
        ("lat".into(), lat.to_string()),
        ("long".into(), lon.to_string()),
        ("description".into(), "Open311 test: bin overflowing".into()),
    ]
}

fn form_of(pairs: &[(String, String)]) -> String {
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form(&refs)
}

/// Posts a valid request; returns its service_request_id.
async fn submitted(app: &TestApp, key: &str, service: &str, point: (f64, f64)) -> String {
    let response = app
        .o311_post("requests.json", form_of(&basic(key, service, point)))
        .await;
    let body = json_body(response, 200).await;
    body[0]["service_request_id"].as_str().unwrap().to_owned()
}

fn small_jpeg() -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode(&image, 64, 48, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

const REQUEST_FIELDS: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];

/// An RFC 3339 time with an explicit offset (Tétouan: +00:00 or +01:00, never `Z`).
fn has_offset(time: &str) -> bool {
    time.len() == 25
        && (time.ends_with(":00") && (time[19..].starts_with('+') || time[19..].starts_with('-')))
}

both_databases! {
    async fn discovery_and_services_in_both_formats(db: Db) {
        let app = TestApp::spawn(db).await;
        let discovery = json_body(app.o311("discovery.json").await, 200).await;
        let endpoint = &discovery["endpoints"][0];
        assert_eq!(endpoint["specification"], "http://wiki.open311.org/GeoReport_v2");
        assert!(endpoint["url"].as_str().unwrap().ends_with("/open311/v2"));
        assert_eq!(endpoint["formats"], json!(["text/xml", "application/json"]));
        let discovery = xml(app.o311("discovery.xml").await, 200).await;
        assert_eq!(discovery.name, "discovery");
        let formats = discovery.child("endpoints").child("endpoint").child("formats");
        assert_eq!(formats.all("format").len(), 2);

        let services = json_body(app.o311("services.json").await, 200).await;
        let services = services.as_array().unwrap();
        assert_eq!(services.len(), 14);
        let bus = services.iter().find(|s| s["service_code"] == "bus_late").unwrap();
        assert_eq!(bus["service_name"], "Bus en retard", "default language: French");
        assert_eq!(bus["metadata"], true);
        assert_eq!(bus["type"], "realtime");
        assert_eq!(bus["group"], "transport");
        assert!(bus["keywords"].is_string());
        let sweep = services.iter().find(|s| s["service_code"] == "waste_street_not_swept").unwrap();
        assert_eq!(sweep["metadata"], false, "no attributes");

        // XML, in English, with jurisdiction_id given and empty (absent).
        for query in ["?jurisdiction_id=tetouan", "?jurisdiction_id=", ""] {
            let response = app.client.get(app.url(&format!("/open311/v2/services.xml{query}")))
                .header("Accept-Language", "en").send().await.unwrap();
            let root = xml(response, 200).await;
            assert_eq!(root.name, "services");
            let all = root.all("service");
            assert_eq!(all.len(), 14, "{query}");
            let bus = all.iter().find(|s| s.text_of("service_code") == "bus_late").unwrap();
            assert_eq!(
                bus.names(),
                vec!["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
            );
            assert_eq!(bus.text_of("service_name"), "Bus late");
            assert_eq!(bus.text_of("metadata"), "true");
        }

        // Errors in the format asked for.
        let errors = xml_errors(app.o311("services.xml?jurisdiction_id=rabat").await, 404).await;
        assert!(errors[0].contains("jurisdiction_id"), "{errors:?}");
        json_errors(app.o311("services.json?jurisdiction_id=rabat").await, 404).await;
        json_errors(app.o311("services.html").await, 404).await;
        xml_errors(app.o311("nothing.xml").await, 404).await;
        app.stop().await;
    }

    async fn service_definitions_come_from_typed_attributes(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let text = |fr: &str| json!({"fr": fr, "en": fr});
        let value = |key: &str| json!({"key": key, "name": text(&key.to_uppercase())});
        let attribute = |code: &str, datatype: &str, required: bool, order: u32, values: Vec<Value>| json!({
            "code": code, "datatype": datatype, "required": required, "description": text(code),
            "order": order, "values": values,
        });
        let service = json!({
            "code": "waste_every_type", "group": "waste", "name": text("Every type"),
            "description": text("All attribute types"), "keywords": ["test"], "sensitive": false,
            "attributes": [
                attribute("note", "text", false, 4, vec![]),
                attribute("bins", "multivaluelist", true, 6, vec![value("green"), value("blue"), value("yellow")]),
                attribute("label", "string", false, 1, vec![]),
                attribute("size", "singlevaluelist", true, 5, vec![value("small"), value("large")]),
                attribute("count", "number", false, 2, vec![]),
                attribute("seen_at", "datetime", false, 3, vec![]),
            ],
        });
        let put = app.client.put(app.url("/api/v1/staff/services/waste_every_type"))
            .bearer_auth(&admin.token).json(&service).send().await.unwrap();
        assert_eq!(put.status(), 200);

        let order = ["label", "count", "seen_at", "note", "size", "bins"];
        let types = ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"];
        let definition = json_body(app.o311("services/waste_every_type.json").await, 200).await;
        assert_eq!(definition["service_code"], "waste_every_type");
        let attributes = definition["attributes"].as_array().unwrap();
        for (i, a) in attributes.iter().enumerate() {
            assert_eq!(a["code"], order[i]);
            assert_eq!(a["datatype"], types[i]);
            assert_eq!(a["order"], json!(i + 1));
            assert_eq!(a["variable"], true);
        }
        assert_eq!(attributes[5]["required"], true);
        assert_eq!(attributes[5]["values"], json!([
            {"key": "green", "name": "GREEN"}, {"key": "blue", "name": "BLUE"}, {"key": "yellow", "name": "YELLOW"}
        ]));

        let root = xml(app.o311("services/waste_every_type.xml").await, 200).await;
        assert_eq!(root.name, "service_definition");
        assert_eq!(root.text_of("service_code"), "waste_every_type");
        let attributes = root.child("attributes").all("attribute");
        assert_eq!(attributes.len(), 6);
        assert_eq!(
            attributes[0].names(),
            vec!["variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"]
        );
        let bins = attributes[5];
        assert_eq!(bins.text_of("datatype"), "multivaluelist");
        assert_eq!(bins.text_of("required"), "true");
        let values = bins.child("values").all("value");
        assert_eq!(values.len(), 3);
        assert_eq!(values[1].text_of("key"), "blue");
        assert_eq!(values[1].text_of("name"), "BLUE");

        xml_errors(app.o311("services/no_such_service.xml").await, 404).await;
        json_errors(app.o311("services/Not%20A%20Code.json").await, 404).await;
        app.stop().await;
    }

    async fn invalid_utf8_is_refused_and_odd_attribute_codes_are_not_echoed(db: Db) {
        let app = TestApp::spawn(db).await;
        let (_, key) = app.open311_key("Strict client").await;
        let before = app.report_count().await;
        let fields = |extra: &[(&str, &str)]| {
            let mut pairs = vec![
                ("jurisdiction_id", "tetouan"), ("api_key", key.as_str()), ("service_code", "waste_bin_overflow"),
                ("lat", "35.575"), ("long", "-5.4"), ("description", "Le bac déborde depuis lundi"),
            ];
            pairs.extend_from_slice(extra);
            form(&pairs)
        };
        // %FF%FE is not UTF-8: a 400 in Open311's error format, nothing stored, no U+FFFD.
        let body = format!("{}&address_string=%FF%FE", fields(&[]));
        let errors = xml_errors(app.o311_post("requests.xml", body).await, 400).await;
        assert!(errors.iter().any(|e| e.contains("address_string") && e.contains("UTF-8")), "{errors:?}");
        let body = format!("{}&attribute%5B%FF%5D=1", fields(&[]));
        json_errors(app.o311_post("requests.json", body).await, 400).await;
        json_errors(app.o311("services.json?jurisdiction_id=%FF%FE").await, 400).await;
        assert_eq!(app.report_count().await, before);

        // Attribute codes the service does not define: plain ones named, others only counted.
        let body = fields(&[("attribute[fixmystreet_id]", "42"), ("attribute[<b onclick=x>\u{0}]", "1"), ("attribute[a\u{202E}b]", "2")]);
        let answer = json_body(app.o311_post("requests.json", body).await, 200).await;
        let notice = answer[0]["service_notice"].as_str().unwrap();
        assert!(notice.contains("fixmystreet_id") && notice.contains("2 with a code"), "{notice}");
        assert!(!notice.contains('<') && !notice.contains('\u{0}') && !notice.contains('\u{202E}'), "{notice}");
        assert_eq!(app.report_count().await, before + 1);
        app.stop().await;
    }

    async fn a_fixmystreet_style_client_round_trip(db: Db) {
        let app = TestApp::spawn(db).await;
        let (key_id, key) = app.open311_key("FixMyStreet").await;
        let admin = app.user(Role::StaffAdmin, None).await;
        // A multivaluelist service, to send repeated bracket keys to.
        let service = json!({
            "code": "waste_mixed", "group": "waste", "name": {"fr": "Mélange"}, "description": {"fr": "Tri"},
            "keywords": [], "sensitive": false,
            "attributes": [
                {"code": "bins", "datatype": "multivaluelist", "required": true, "description": {"fr": "Bacs"}, "order": 1,
                 "values": [{"key": "green", "name": {"fr": "Vert"}}, {"key": "blue", "name": {"fr": "Bleu"}}]},
                {"code": "bin_type", "datatype": "singlevaluelist", "required": false, "description": {"fr": "Type"}, "order": 2,
                 "values": [{"key": "household", "name": {"fr": "Ménager"}}]}
            ]
        });
        let put = app.client.put(app.url("/api/v1/staff/services/waste_mixed"))
            .bearer_auth(&admin.token).json(&service).send().await.unwrap();
        assert_eq!(put.status(), 200);
        let before = app.report_count().await;

        // As FixMyStreet sends it: XML, api_key and jurisdiction_id in the body, percent-encoded
        // bracket keys, repeated media_url, contact fields, its own extra attributes.
        let body = form(&[
            ("jurisdiction_id", "tetouan"),
            ("api_key", &key),
            ("service_code", "waste_mixed"),
            ("lat", "35.575"),
            ("long", "-5.4"),
            ("address_string", "Avenue Mohammed V, Tétouan"),
            ("email", "resident@example.org"),
            ("first_name", "Amina"),
            ("last_name", "Benali"),
            ("phone", "+212600112233"),
            ("description", "title: Bins\n\ndetail: Green & blue bins <full> since Monday\n\nurl: https://fms.example/report/42\n\nSubmitted via FixMyStreet"),
            ("media_url", "https://fms.example/photo/42.0.full.jpeg"),
            ("media_url", "https://fms.example/photo/42.1.full.jpeg"),
            ("attribute[bins][]", "green"),
            ("attribute[bins][]", "blue"),
            ("attribute[bin_type]", "household"),
            ("attribute[fixmystreet_id]", "42"),
            ("attribute[closest_address]", ""),
            ("deviceid", "fms-device-7"),
        ]);
        let root = xml(app.o311_post("requests.xml", body).await, 200).await;
        assert_eq!(root.name, "service_requests");
        let request = root.child("request");
        assert_eq!(request.names(), vec!["service_request_id", "token", "service_notice", "account_id"]);
        let id = request.text_of("service_request_id").to_owned();
        assert!(id.starts_with("TET-"), "{id}");
        let notice = request.text_of("service_notice");
        assert!(notice.contains(&id) && notice.contains("fixmystreet_id"), "{notice}");
        assert_eq!(app.report_count().await, before + 1);

        // The token resolves, as FixMyStreet does when it gets no id.
        let token = request.text_of("token").to_owned();
        let resolved = xml(app.o311(&format!("tokens/{token}.xml?jurisdiction_id=tetouan")).await, 200).await;
        assert_eq!(resolved.child("request").text_of("service_request_id"), id);
        assert_eq!(resolved.child("request").text_of("token"), token);
        let resolved = json_body(app.o311(&format!("tokens/{token}.json")).await, 200).await;
        assert_eq!(resolved[0]["service_request_id"], id.as_str());
        xml_errors(app.o311("tokens/0193a3d2-7c1e-7b9a-9f00-1234567890ab.xml").await, 404).await;
        xml_errors(app.o311("tokens/nonsense.xml").await, 404).await;

        // The app's pipeline: routed, SLA due time, channel open311, attributes checked.
        let report_id = uuid::Uuid::parse_str(&token).unwrap();
        let stored = app.store.report(report_id).await.unwrap().unwrap();
        assert_eq!(stored.channel, balagh_domain::Channel::Open311);
        assert_eq!(stored.status, balagh_domain::ReportStatus::New);
        assert_eq!(stored.operator, Some(app.operator_id("nadafa-demo").await));
        assert!(stored.due_at.is_some(), "SLA clocks started");
        assert_eq!(stored.attributes, json!({"bins": ["green", "blue"], "bin_type": "household"}));
        assert!(stored.description.contains("Green & blue bins <full>"));
        assert_eq!(stored.device, None);
        let contact = stored.contact.clone().unwrap();
        assert_eq!(contact["email"], "resident@example.org");
        assert_eq!(contact["phone"], "+212600112233");
        let submission = app.store.open311_submission(report_id).await.unwrap().unwrap();
        assert_eq!(submission.key_id.to_string(), key_id);
        assert_eq!(submission.media_urls.len(), 2);
        assert_eq!(submission.device_id.as_deref(), Some("fms-device-7"));
        assert_eq!(submission.jurisdiction_param.as_deref(), Some("tetouan"));
        let clocks = app.store.report_clocks(report_id).await.unwrap();
        assert!(!clocks.is_empty(), "clocks stored");

        // Read back as FixMyStreet does (service_request_id list, XML) and as JSON.
        let root = xml(app.o311(&format!("requests.xml?jurisdiction_id=tetouan&service_request_id={id}")).await, 200).await;
        let request = root.child("request");
        assert_eq!(request.names(), REQUEST_FIELDS.to_vec());
        assert_eq!(request.text_of("status"), "open");
        assert_eq!(request.text_of("service_code"), "waste_mixed");
        assert_eq!(request.text_of("description"), stored.description);
        assert_eq!(request.text_of("address"), "Avenue Mohammed V, Tétouan");
        assert_eq!(request.text_of("media_url"), "", "external media are never shown");
        assert!(has_offset(request.text_of("requested_datetime")), "{}", request.text_of("requested_datetime"));
        assert!(has_offset(request.text_of("expected_datetime")));
        assert!(!request.text_of("agency_responsible").is_empty());
        let raw = app.o311(&format!("requests/{id}.json")).await.text().await.unwrap();
        for private in ["resident@example.org", "Amina", "Benali", "600112233", "fms-device-7", "fms.example/photo", "contact", "device"] {
            assert!(!raw.contains(private), "{private} leaked: {raw}");
        }
        let one: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(one.as_array().unwrap().len(), 1);
        assert_eq!(one[0]["service_request_id"], id.as_str());
        // The point as published: the centre of its 100 m grid square, near the real one.
        let shown = balagh_domain::GeoPoint::parse(one[0]["lat"].as_f64().unwrap(), one[0]["long"].as_f64().unwrap()).unwrap();
        assert!(balagh_domain::publish::RecordPolicy::default().is_snapped(&shown), "{one}");
        assert!(shown.distance_m(&balagh_domain::GeoPoint::parse(35.575, -5.4).unwrap()) < 75.0);
        assert!(one[0]["media_url"].is_null());
        // The operator's system heard of it through its webhook outbox, like any report.
        let outbox = app.store.outbox_messages(stored.operator.unwrap(), balagh_store::OutboxState::Pending, 100).await.unwrap();
        let delivered = app.store.outbox_messages(stored.operator.unwrap(), balagh_store::OutboxState::Delivered, 100).await.unwrap();
        let dead = app.store.outbox_messages(stored.operator.unwrap(), balagh_store::OutboxState::Dead, 100).await.unwrap();
        assert!(
            outbox.iter().chain(&delivered).chain(&dead).any(|m| m.payload["data"]["id"] == json!(report_id)),
            "ticket.created in the outbox"
        );
        // No idempotency in Open311: the same POST again is a second report.
        let again = form_of(&basic(&key, "waste_bin_overflow", WEST));
        json_body(app.o311_post("requests.json", again.clone()).await, 200).await;
        json_body(app.o311_post("requests.json", again).await, 200).await;
        assert_eq!(app.report_count().await, before + 3);
        app.stop().await;
    }

    async fn bad_posts_are_refused_in_the_spec_format_and_change_nothing(db: Db) {
        let app = TestApp::spawn(db).await;
        let (key_id, key) = app.open311_key("City 311").await;
        let before = app.report_count().await;
        let with = |changes: &[(&str, &str)], drop: &[&str]| {
            let mut pairs = basic(&key, "waste_bin_overflow", WEST);
            pairs.retain(|(k, _)| !drop.contains(&k.as_str()));
            for (k, v) in changes {
                pairs.retain(|(existing, _)| existing != k);
                pairs.push(((*k).to_owned(), (*v).to_owned()));
            }
            form_of(&pairs)
        };

        // 403: no key, an unknown key, an empty key.
        let errors = xml_errors(app.o311_post("requests.xml", with(&[], &["api_key"])).await, 403).await;
        assert!(errors[0].contains("api_key"), "{errors:?}");
        json_errors(app.o311_post("requests.json", with(&[("api_key", "o311_nope")], &[])).await, 403).await;
        json_errors(app.o311_post("requests.json", with(&[("api_key", "")], &[])).await, 403).await;
        // The key for another jurisdiction's id; an unknown jurisdiction is a 404.
        json_errors(app.o311_post("requests.json", with(&[("jurisdiction_id", "rabat")], &[])).await, 404).await;
        // 400s, each saying what is wrong.
        let cases: Vec<(String, &str)> = vec![
            (with(&[], &["lat", "long"]), "lat"),
            (with(&[("address_string", "Place Moulay El Mehdi")], &["lat", "long"]), "address_string"),
            (with(&[], &["long"]), "long"),
            (with(&[("lat", "north")], &[]), "lat"),
            (format!("{}&lat=35.6", with(&[], &[])), "lat"),
            (with(&[("service_code", "no_such_service")], &[]), "service_code"),
            (with(&[], &["service_code"]), "service_code"),
            (with(&[], &["description"]), "description"),
            (with(&[("description", &"é".repeat(4001))], &[]), "description"),
            (with(&[("lat", "34.0209"), ("long", "-6.8416")], &[]), "lat"),
            (with(&[("service_code", "waste_illegal_dumping")], &[]), "attribute[volume]"),
            (with(&[("service_code", "waste_illegal_dumping"), ("attribute[volume]", "huge")], &[]), "attribute[volume]"),
            (with(&[("media_url", "ftp://x/y.jpg")], &[]), "media_url"),
            (with(&[("email", &"x".repeat(201))], &[]), "email"),
        ];
        for (body, field) in &cases {
            let errors = xml_errors(app.o311_post("requests.xml", body.clone()).await, 400).await;
            assert!(errors.iter().any(|e| e.contains(field)), "{field}: {errors:?}");
            let errors = json_errors(app.o311_post("requests.json", body.clone()).await, 400).await;
            assert!(errors.iter().any(|e| e.contains(field)), "{field}: {errors:?}");
        }
        // Several wrong fields at once: one error each.
        let errors = json_errors(app.o311_post("requests.json", with(&[("lat", "x"), ("media_url", "nope")], &["service_code"])).await, 400).await;
        assert!(errors.len() >= 3, "{errors:?}");
        // Not a form.
        let json_post = app.client.post(app.url("/open311/v2/requests.json")).json(&json!({"api_key": key})).send().await.unwrap();
        json_errors(json_post, 400).await;
        // Only requests takes POST.
        json_errors(app.o311_post("services.json", with(&[], &[])).await, 405).await;
        assert_eq!(app.report_count().await, before, "nothing stored");

        // Empty optional parameters are absent; the key may come in the query string.
        let ok = with(&[("jurisdiction_id", ""), ("address_string", ""), ("email", ""), ("media_url", ""), ("attribute[bin_type]", "")], &["api_key"]);
        let response = app.client.post(app.url(&format!("/open311/v2/requests.json?api_key={key}")))
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8").body(ok).send().await.unwrap();
        let created = json_body(response, 200).await;
        let token = uuid::Uuid::parse_str(created[0]["token"].as_str().unwrap()).unwrap();
        assert!(app.store.report(token).await.unwrap().unwrap().contact.is_none());
        let submission = app.store.open311_submission(token).await.unwrap().unwrap();
        assert_eq!((submission.address, submission.jurisdiction_param), (None, None));

        // A revoked key is refused at once.
        let admin = app.user(Role::StaffAdmin, None).await;
        let revoke = app.client.delete(app.url(&format!("/api/v1/staff/open311-keys/{key_id}")))
            .bearer_auth(&admin.token).send().await.unwrap();
        assert_eq!(revoke.status(), 204);
        xml_errors(app.o311_post("requests.xml", with(&[], &[])).await, 403).await;
        app.stop().await;
    }

    async fn get_requests_filters_windows_and_pages(db: Db) {
        let app = TestApp::spawn(db).await;
        let (_, key) = app.open311_key("Feed reader").await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let first = submitted(&app, &key, "waste_bin_overflow", WEST).await;
        let (_, resolved) = app.reported("waste_bin_overflow", WEST).await;
        let (_, light) = app.reported("light_out", NORTH_CENTRE).await;
        operator_act(&app, &agent.token, &resolved, "resolve", json!({"note": "Bin emptied & washed"})).await;
        let resolved_ref = resolved["reference"].as_str().unwrap();
        let light_ref = light["reference"].as_str().unwrap();

        // The default window: everything of the last 90 days, newest first.
        let all = json_body(app.o311("requests.json").await, 200).await;
        let ids: Vec<&str> = all.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![light_ref, resolved_ref, first.as_str()]);
        for request in all.as_array().unwrap() {
            let fields: Vec<&str> = request.as_object().unwrap().keys().map(String::as_str).collect();
            for field in REQUEST_FIELDS {
                assert!(fields.contains(&field), "{field} missing");
            }
            assert!(request["service_request_id"].is_string());
        }
        let closed = &all[1];
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["status_notes"], "Bin emptied & washed");
        assert!(closed["expected_datetime"].is_null(), "no due time once resolved");

        // status, service_code (comma lists); empty parameters are ignored.
        let open = json_body(app.o311("requests.json?status=open&service_code=&start_date=").await, 200).await;
        assert_eq!(open.as_array().unwrap().len(), 2);
        let closed = xml(app.o311("requests.xml?status=closed").await, 200).await;
        assert_eq!(closed.all("request").len(), 1);
        assert_eq!(closed.child("request").text_of("status_notes"), "Bin emptied & washed");
        let both = json_body(app.o311("requests.json?status=open,closed&service_code=light_out,bus_late").await, 200).await;
        assert_eq!(both.as_array().unwrap().len(), 1);
        assert_eq!(both[0]["service_request_id"], light_ref);
        // service_request_id overrides the other filters.
        let named = json_body(app.o311(&format!("requests.json?service_request_id={first},{light_ref}&status=closed&service_code=bus_late")).await, 200).await;
        assert_eq!(named.as_array().unwrap().len(), 2);
        // One request by id (its reference, or its token), a one-element list; unknown: 404.
        let one = xml(app.o311(&format!("requests/{resolved_ref}.xml")).await, 200).await;
        assert_eq!(one.name, "service_requests");
        assert_eq!(one.all("request").len(), 1);
        let by_token = json_body(app.o311(&format!("requests/{}.json", resolved["id"].as_str().unwrap())).await, 200).await;
        assert_eq!(by_token[0]["service_request_id"], resolved_ref);
        xml_errors(app.o311("requests/TET-00000000.xml").await, 404).await;
        json_errors(app.o311("requests/TET-00000000.json").await, 404).await;

        // Dates: ISO 8601 with an offset; a '+' sent unencoded arrives as a space and is taken back.
        let now = time::OffsetDateTime::now_utc();
        let iso = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
        let start = iso(now - time::Duration::days(1));
        let window = json_body(app.o311(&format!("requests.json?start_date={}&end_date={}", encode(&start), encode(&iso(now + time::Duration::minutes(1))))).await, 200).await;
        assert_eq!(window.as_array().unwrap().len(), 3);
        let plus = json_body(app.o311("requests.json?start_date=2020-01-01T00:00:00+01:00").await, 200).await;
        assert_eq!(plus.as_array().unwrap().len(), 0, "2020 + 90 days holds nothing");
        let future = json_body(app.o311(&format!("requests.json?start_date={}", encode(&iso(now + time::Duration::days(2))))).await, 200).await;
        assert_eq!(future.as_array().unwrap().len(), 0);
        let out_of_range = [
            "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            "start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z",
            "start_date=yesterday",
            "start_date=2026-01-01",
            "start_date=2026-01-01T00:00:00",
            "end_date=2026-13-01T00:00:00Z",
            "start_date=9999-12-31T00:00:00Z",
            "status=pending",
            "page_size=0",
            "page_size=1001",
            "page=0",
            "extensions=maybe",
            "service_code=Bad%20Code",
        ];
        for query in out_of_range {
            let errors = xml_errors(app.o311(&format!("requests.xml?{query}")).await, 400).await;
            assert!(!errors[0].is_empty(), "{query}");
            json_errors(app.o311(&format!("requests.json?{query}")).await, 400).await;
        }

        // Pages, newest first.
        let mut paged = Vec::new();
        for page in 1..=4 {
            let body = json_body(app.o311(&format!("requests.json?page_size=1&page={page}")).await, 200).await;
            paged.extend(body.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()));
        }
        assert_eq!(paged, ids);

        // Extensions: the operator's notes (and approved photos) on each request.
        let extended = json_body(app.o311(&format!("requests.json?service_request_id={resolved_ref}&extensions=true")).await, 200).await;
        let notes = extended[0]["notes"].as_array().unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0]["description"], "Bin emptied & washed");
        assert!(extended[0]["photos"].as_array().unwrap().is_empty());
        let extended = xml(app.o311(&format!("requests.xml?service_request_id={resolved_ref}&extensions=true")).await, 200).await;
        let note = extended.child("request").child("notes").child("note");
        assert_eq!(note.text_of("description"), "Bin emptied & washed");
        assert!(has_offset(note.text_of("datetime")));
        let plain = json_body(app.o311(&format!("requests.json?service_request_id={resolved_ref}")).await, 200).await;
        assert!(plain[0].get("notes").is_none());
        app.stop().await;
    }

    async fn privacy_moderation_sensitive_services_and_approved_photos(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let resident = app.device().await;
        // A sensitive service is never listed record by record (aggregates only).
        let mut body = report_body("bus_driver_conduct", (35.5785, -5.3684));
        body["attributes"] = json!({"bus_line": "5"});
        body["description"] = json!("The driver of bus 5 (plate 12345-A-6) insulted my mother");
        let response = app.post_report(&resident, "sensitive-1", &body).await;
        assert_eq!(response.status(), 201);
        let sensitive: Value = response.json().await.unwrap();
        let reference = sensitive["reference"].as_str().unwrap();
        let raw = app.o311(&format!("requests/{reference}.json")).await;
        assert_eq!(raw.status(), 404);
        let raw = raw.text().await.unwrap();
        assert!(!raw.contains("12345") && !raw.contains("insulted"), "{raw}");
        let listed = json_body(app.o311("requests.json?service_code=bus_driver_conduct").await, 200).await;
        assert_eq!(listed, json!([]));
        let all = app.o311("requests.json").await.text().await.unwrap();
        assert!(!all.contains(reference) && !all.contains("insulted"), "{all}");
        let root = app.o311(&format!("requests/{reference}.xml")).await;
        assert_eq!(root.status(), 404);

        // Moderation hides a description from Open311 too; points are on the record grid.
        let (reporter, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let reference = report["reference"].as_str().unwrap();
        let visible = json_body(app.o311(&format!("requests/{reference}.json")).await, 200).await;
        assert_eq!(visible[0]["description"], report["description"]);
        let grid = balagh_domain::publish::RecordPolicy::default();
        let point = balagh_domain::GeoPoint::parse(visible[0]["lat"].as_f64().unwrap(), visible[0]["long"].as_f64().unwrap()).unwrap();
        assert!(grid.is_snapped(&point), "{visible}");
        assert_ne!(visible[0]["lat"], json!(WEST.0));
        assert!(visible[0]["requested_datetime"].as_str().unwrap().contains(":00:00"), "{visible}");
        let hide = app.post_as(&staff.token, &format!("/api/v1/staff/reports/{id}/moderation"), Some("\"1\""),
            Some(json!({"hide_description": true, "reason": "personal data"}))).await;
        assert_eq!(hide.status(), 200);
        let hidden = json_body(app.o311(&format!("requests/{reference}.json")).await, 200).await;
        assert!(hidden[0]["description"].is_null());

        // A description with personal data waits for staff: the screen withholds it until a
        // member of staff shows it (approval), whatever it says.
        let mut private = report_body("light_out", NORTH_CENTRE);
        private["description"] = json!("Lampe cassée. Contact : karim.b@gmail.com");
        let response = app.post_report(&resident, "private-1", &private).await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        let private_ref = created["reference"].as_str().unwrap();
        let screened = app.o311(&format!("requests/{private_ref}.json")).await.text().await.unwrap();
        assert!(!screened.contains("karim.b@gmail.com"), "{screened}");
        let private_id = created["id"].as_str().unwrap();
        let show = app.post_as(&staff.token, &format!("/api/v1/staff/reports/{private_id}/moderation"), Some("\"1\""),
            Some(json!({"hide_description": false, "reason": "the resident asked to be called"}))).await;
        assert_eq!(show.status(), 200);
        let approved = json_body(app.o311(&format!("requests/{private_ref}.json")).await, 200).await;
        assert_eq!(approved[0]["description"], "Lampe cassée. Contact : karim.b@gmail.com");

        // media_url shows a photo of ours once staff approved it, through a stable link.
        let upload = app.client.post(app.url(&format!("/api/v1/reports/{id}/photos"))).bearer_auth(&reporter)
            .header("content-type", "multipart/form-data; boundary=b0und")
            .body([
                b"--b0und\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".to_vec(),
                small_jpeg(),
                b"\r\n--b0und--\r\n".to_vec(),
            ].concat())
            .send().await.unwrap();
        assert_eq!(upload.status(), 201);
        let photo: Value = upload.json().await.unwrap();
        let before = json_body(app.o311(&format!("requests/{reference}.json")).await, 200).await;
        assert!(before[0]["media_url"].is_null(), "not approved yet");
        let photo_id = photo["id"].as_str().unwrap();
        let media_path = format!("/open311/v2/media/{photo_id}.jpg");
        json_errors(app.client.get(app.url(&media_path)).send().await.unwrap(), 404).await;
        let approve = app.post_as(&staff.token, &format!("/api/v1/staff/photos/{photo_id}/moderation"), None, Some(json!({"approved": true}))).await;
        assert_eq!(approve.status(), 200);
        let after = json_body(app.o311(&format!("requests/{reference}.json")).await, 200).await;
        let media_url = after[0]["media_url"].as_str().unwrap();
        assert!(media_url.ends_with(&media_path), "{media_url}");
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let redirect = no_redirects.get(media_url).send().await.unwrap();
        assert_eq!(redirect.status(), 307);
        let image = app.client.get(media_url).send().await.unwrap();
        assert_eq!(image.status(), 200);
        assert_eq!(image.headers()["content-type"], "image/jpeg");
        let extended = json_body(app.o311(&format!("requests/{reference}.json?extensions=true")).await, 200).await;
        assert_eq!(extended[0]["photos"][0]["media_url"], media_url);
        app.stop().await;
    }

    async fn service_request_updates_fixmystreet_style(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let (_, report) = app.reported("waste_bin_overflow", WEST).await;
        let reference = report["reference"].as_str().unwrap();
        let id = report["id"].as_str().unwrap();
        operator_act(&app, &agent.token, &report, "acknowledge", json!({})).await;
        let comment = |text: &str, public: bool| {
            let (app, token, text) = (&app, agent.token.clone(), text.to_owned());
            async move {
                let current: Value = app.get(&token, &format!("/api/v1/operator/tickets/{id}")).await.json().await.unwrap();
                let etag = format!("\"{}\"", current["version"]);
                let response = app.post_as(&token, &format!("/api/v1/operator/tickets/{id}/comments"), Some(&etag),
                    Some(json!({"text": text, "public": public}))).await;
                assert!(response.status().is_success(), "{}", response.status());
            }
        };
        comment("Truck on its way", true).await;
        comment("Internal: driver called in sick", false).await;
        operator_act(&app, &agent.token, &report, "resolve", json!({"note": "Emptied"})).await;

        let updates = xml(app.o311("servicerequestupdates.xml").await, 200).await;
        assert_eq!(updates.name, "service_requests_updates");
        let all = updates.all("request_update");
        assert_eq!(all.len(), 3, "{updates:?}");
        for update in &all {
            assert_eq!(
                update.names(),
                vec!["update_id", "service_request_id", "status", "external_status_code", "updated_datetime", "description", "media_url"]
            );
            assert_eq!(update.text_of("service_request_id"), reference);
            assert!(has_offset(update.text_of("updated_datetime")));
        }
        assert_eq!(all[0].text_of("external_status_code"), "acknowledged");
        assert_eq!(all[0].text_of("status"), "open");
        assert_eq!(all[1].text_of("description"), "Truck on its way");
        // Written while the report was acknowledged: stamped so, not with today's status.
        assert_eq!(all[1].text_of("external_status_code"), "acknowledged");
        assert_eq!(all[1].text_of("status"), "open");
        assert_eq!(all[2].text_of("status"), "closed");
        assert_eq!(all[2].text_of("description"), "Emptied");
        let text = app.o311("servicerequestupdates.json").await.text().await.unwrap();
        assert!(!text.contains("sick"), "private comments stay private");
        let json = json_body(app.o311("servicerequestupdates.json").await, 200).await;
        assert_eq!(json.as_array().unwrap().len(), 3);
        let ids: std::collections::HashSet<&str> = json.as_array().unwrap().iter().map(|u| u["update_id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 3, "update ids are unique");
        // The window: nothing yet in the future; a bad range is a 400.
        let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
            .format(&time::format_description::well_known::Rfc3339).unwrap();
        let none = json_body(app.o311(&format!("servicerequestupdates.json?start_date={}", encode(&tomorrow))).await, 200).await;
        assert!(none.as_array().unwrap().is_empty());
        xml_errors(app.o311("servicerequestupdates.xml?start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z").await, 400).await;
        app.stop().await;
    }

    async fn keys_are_issued_and_revoked_by_staff_admins_and_the_command_line(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let operator = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let resident = app.device().await;
        let path = "/api/v1/staff/open311-keys";
        let body = Some(json!({"name": "FixMyStreet"}));
        problem(app.client.get(app.url(path)).send().await.unwrap(), 401).await;
        for token in [&agent.token, &operator.token, &resident] {
            problem(app.get(token, path).await, 403).await;
            problem(app.post_as(token, path, None, body.clone()).await, 403).await;
        }
        problem(app.post_as(&admin.token, path, None, Some(json!({"name": " "}))).await, 422).await;
        let created: Value = app.post_as(&admin.token, path, None, body.clone()).await.json().await.unwrap();
        let key = created["key"].as_str().unwrap();
        assert!(key.starts_with("o311_"));
        assert_eq!(created["name"], "FixMyStreet");
        let listed: Value = app.get(&admin.token, path).await.json().await.unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(listed[0].get("key").is_none() && !listed.to_string().contains(key), "never the key");
        assert!(listed[0]["revoked_at"].is_null());
        let id = created["id"].as_str().unwrap();
        let delete = |token: String, id: String| {
            let app = &app;
            async move {
                app.client.delete(app.url(&format!("/api/v1/staff/open311-keys/{id}"))).bearer_auth(token).send().await.unwrap()
            }
        };
        problem(delete(agent.token.clone(), id.to_owned()).await, 403).await;
        assert_eq!(delete(admin.token.clone(), id.to_owned()).await.status(), 204);
        problem(delete(admin.token.clone(), id.to_owned()).await, 404).await;
        problem(delete(admin.token.clone(), uuid::Uuid::now_v7().to_string()).await, 404).await;
        let listed: Value = app.get(&admin.token, path).await.json().await.unwrap();
        assert!(listed[0]["revoked_at"].is_string());

        // `balagh open311-key create NAME` prints the key once; `revoke` stops it at once.
        let balagh = |args: &[&str]| {
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_balagh"))
                .args(args)
                .args(["--database-url", &app.database_url()])
                .env("RUST_LOG", "warn")
                .output()
                .unwrap();
            (output.status.success(), String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
        };
        let (ok, stdout, stderr) = balagh(&["open311-key", "create", "Mark-a-Spot"]);
        assert!(ok, "{stderr}");
        let cli_key = stdout.trim().to_owned();
        assert!(cli_key.starts_with("o311_") && !cli_key.contains('\n'), "{stdout}");
        let created = json_body(app.o311_post("requests.json", form_of(&basic(&cli_key, "light_out", NORTH_CENTRE))).await, 200).await;
        assert!(created[0]["service_request_id"].is_string());
        let (ok, list, _) = balagh(&["open311-key", "list"]);
        assert!(ok && !list.contains(&cli_key));
        let cli_id = list.lines().find(|l| l.contains("Mark-a-Spot")).unwrap().split('\t').next().unwrap().to_owned();
        let (ok, _, stderr) = balagh(&["open311-key", "revoke", &cli_id]);
        assert!(ok, "{stderr}");
        json_errors(app.o311_post("requests.json", form_of(&basic(&cli_key, "light_out", NORTH_CENTRE))).await, 403).await;
        let (ok, _, stderr) = balagh(&["open311-key", "revoke", &cli_id]);
        assert!(!ok && stderr.contains("no active"), "{stderr}");
        let (ok, _, stderr) = balagh(&["open311-key", "create", "X", "--jurisdiction", "rabat"]);
        assert!(!ok && stderr.contains("rabat"), "{stderr}");
        app.stop().await;
    }
}
