//! The resident API over real HTTP, on both databases.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::zones::ZoneFeature;
use serde_json::{Value, json};

both_databases! {
    async fn services_are_listed_in_the_asked_language(db: Db) {
        let app = TestApp::spawn(db).await;
        let mut names = Vec::new();
        for language in ["fr", "ar-MA,ar;q=0.9", "en;q=0.8, de"] {
            let body: Value = app
                .client
                .get(app.url("/api/v1/services"))
                .header("Accept-Language", language)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let services = body["services"].as_array().unwrap();
            assert!(services.len() >= 12, "{}", services.len());
            for group in ["waste", "lighting", "transport"] {
                assert!(services.iter().any(|s| s["group"] == group));
            }
            let bus = services.iter().find(|s| s["code"] == "bus_late").unwrap();
            assert_eq!(bus["attributes"][0]["code"], "bus_line");
            assert_eq!(bus["attributes"][0]["required"], true);
            names.push((body["language"].clone(), bus["name"].clone()));
        }
        assert_eq!(names[0], (json!("fr"), json!("Bus en retard")));
        assert_eq!(names[1], (json!("ar"), json!("تأخر الحافلة")));
        assert_eq!(names[2], (json!("en"), json!("Bus late")));
        let missing = app
            .client
            .get(app.url("/api/v1/services?jurisdiction_id=rabat"))
            .send()
            .await
            .unwrap();
        problem(missing, 404).await;
        app.stop().await;
    }

    async fn reports_are_routed_to_the_operator_of_the_zone(db: Db) {
        let app = TestApp::spawn(db).await;
        let token = app.device().await;
        let cases = [
            ("waste_bin_overflow", WEST, "nadafa-demo"),
            ("waste_bin_overflow", EAST, "bia-nord-demo"),
            ("light_out", NORTH_CENTRE, "nour-eclairage-demo"),
            ("bus_stop_damaged", EAST, "hafilat-tetouan-demo"),
        ];
        for (i, (service, point, operator)) in cases.into_iter().enumerate() {
            let response = app
                .post_report(&token, &format!("route-{i}"), &report_body(service, point))
                .await;
            assert_eq!(response.status(), 201);
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["operator"]["slug"], operator, "{service} at {point:?}");
            assert_eq!(body["status"], "new");
            assert_eq!(location, format!("/api/v1/reports/{}", body["id"].as_str().unwrap()));
            let reference = body["reference"].as_str().unwrap();
            assert!(reference.starts_with("TET-") && reference.len() == 12, "{reference}");
            let id = uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
            assert_eq!(id.get_version_num(), 7);
        }
        assert_eq!(app.report_count().await, 4);
        app.stop().await;
    }

    async fn a_point_outside_the_commune_is_refused_and_nothing_is_written(db: Db) {
        let app = TestApp::spawn(db).await;
        let token = app.device().await;
        let response = app
            .post_report(&token, "outside", &report_body("light_out", OUTSIDE))
            .await;
        let body = problem(response, 422).await;
        assert_eq!(body["type"], "urn:balagh:problem:outside-jurisdiction");
        assert_eq!(app.report_count().await, 0);
        app.stop().await;
    }

    async fn a_point_no_contract_covers_waits_unrouted_for_triage(db: Db) {
        let app = TestApp::spawn(db).await;
        // End the northern lighting contract yesterday.
        let mut zones: Vec<ZoneFeature> = match balagh::demo::ZONES.parse::<geojson::GeoJson>().unwrap() {
            geojson::GeoJson::FeatureCollection(fc) => {
                fc.features.iter().map(|f| ZoneFeature::parse(f).unwrap()).collect()
            }
            _ => unreachable!(),
        };
        zones.retain(|z| z.contract_reference == "TET-DEMO-LIGHT-N");
        zones[0].valid_until = Some(time::OffsetDateTime::now_utc() - time::Duration::days(1));
        let tetouan = balagh_domain::Slug::parse("id", "tetouan").unwrap();
        app.store.upsert_zones(&tetouan, &zones, &|_| {}).await.unwrap();
        assert!(app.state.refresh_catalog().await.unwrap(), "catalog reloads");

        let token = app.device().await;
        let response = app
            .post_report(&token, "unrouted", &report_body("light_out", NORTH_CENTRE))
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "unrouted");
        assert_eq!(body["operator"], Value::Null);
        // Other groups and the southern lighting zone still route.
        let south = app
            .post_report(&token, "south", &report_body("light_out", (35.5600, -5.3684)))
            .await;
        let south: Value = south.json().await.unwrap();
        assert_eq!(south["status"], "new");
        let stored = app
            .store
            .report(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, balagh_domain::ReportStatus::Unrouted);
        app.stop().await;
    }

    async fn an_idempotency_key_never_creates_a_second_report(db: Db) {
        let app = TestApp::spawn(db).await;
        let token = app.device().await;
        let body = report_body("waste_bin_overflow", WEST);
        let first = app.post_report(&token, "same-key", &body).await;
        assert_eq!(first.status(), 201);
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first: Value = first.json().await.unwrap();

        let again = app.post_report(&token, "same-key", &body).await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["reference"], first["reference"]);

        // Concurrent retries of a new submission: one report.
        let retry_body = report_body("light_out", NORTH_CENTRE);
        let attempts = (0..16).map(|_| app.post_report(&token, "concurrent", &retry_body));
        let responses = futures_util::future::join_all(attempts).await;
        let mut ids = std::collections::BTreeSet::new();
        for response in responses {
            assert_eq!(response.status(), 201);
            let body: Value = response.json().await.unwrap();
            ids.insert(body["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 1, "{ids:?}");

        // The same key with a different request is refused.
        let reused = app
            .post_report(&token, "same-key", &report_body("waste_bin_overflow", EAST))
            .await;
        let reused = problem(reused, 422).await;
        assert_eq!(reused["type"], "urn:balagh:problem:idempotency-key-reused");

        // Keys are per device: another device may use the same key.
        let other = app.device().await;
        let theirs = app.post_report(&other, "same-key", &body).await;
        let theirs: Value = theirs.json().await.unwrap();
        assert_ne!(theirs["id"], first["id"]);
        assert_eq!(app.report_count().await, 3);
        app.stop().await;
    }

    async fn bad_input_gets_a_problem_naming_the_field_and_writes_nothing(db: Db) {
        let app = TestApp::spawn(db).await;
        let token = app.device().await;
        let valid = report_body("bus_late", EAST);
        let with = |key: &str, value: Value| {
            let mut body = valid.clone();
            body[key] = value;
            body
        };
        let mut with_attributes = valid.clone();
        with_attributes["attributes"] = json!({"bus_line": "5", "minutes_late": "a lot"});
        let cases: Vec<(Value, &str)> = vec![
            (valid.clone(), "attributes.bus_line"),
            (with("service_code", json!("teleportation")), "service_code"),
            (with("service_code", json!("Not A Code")), "service_code"),
            (with("lat", json!(91.0)), "lat"),
            (with("lon", json!(-180.5)), "lon"),
            (with("lat", json!("35.5")), "lat"),
            (with("description", json!("   ")), "description"),
            (with("description", json!("x".repeat(4001))), "description"),
            (with("description", json!("bell \u{0007} here")), "description"),
            (with("accuracy_m", json!(-3)), "accuracy_m"),
            (with("colour", json!("red")), "colour"),
            (json!({"lat": 35.57, "lon": -5.36}), "service_code"),
            (with_attributes, "attributes.minutes_late"),
        ];
        for (i, (body, field)) in cases.into_iter().enumerate() {
            let response = app.post_report(&token, &format!("bad-{i}"), &body).await;
            let problem = problem(response, 422).await;
            assert!(fields(&problem).contains(&field.to_owned()), "case {i}: {problem}");
        }

        // Several wrong fields are reported together.
        let mut many = valid.clone();
        many["description"] = json!("");
        many["accuracy_m"] = json!(0);
        let response = app.post_report(&token, "many", &many).await;
        let p = problem(response, 422).await;
        let f = fields(&p);
        assert!(f.contains(&"description".to_owned()) && f.contains(&"accuracy_m".to_owned()), "{p}");

        let raw = |body: &'static str, content_type: &'static str| {
            app.client
                .post(app.url("/api/v1/reports"))
                .bearer_auth(&token)
                .header("Idempotency-Key", "raw")
                .header("content-type", content_type)
                .body(body)
        };
        problem(raw("{\"service_code\": ", "application/json").send().await.unwrap(), 400).await;
        problem(raw("not json", "application/json").send().await.unwrap(), 400).await;
        problem(raw("{}", "text/plain").send().await.unwrap(), 415).await;
        problem(raw("{\"lat\": 1e999}", "application/json").send().await.unwrap(), 400).await;
        let huge = format!("{{\"description\": \"{}\"}}", "x".repeat(200_000));
        // The server answers 413 without reading the rest and drops the connection: use a
        // client of its own so that no later request lands on that connection.
        let response = reqwest::Client::new()
            .post(app.url("/api/v1/reports"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "huge")
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap();
        problem(response, 413).await;

        // Missing Idempotency-Key, missing and wrong tokens.
        let response = app
            .client
            .post(app.url("/api/v1/reports"))
            .bearer_auth(&token)
            .json(&report_body("light_out", NORTH_CENTRE))
            .send()
            .await
            .unwrap();
        let p = problem(response, 400).await;
        assert_eq!(fields(&p), vec!["Idempotency-Key".to_owned()]);
        let response = app
            .client
            .post(app.url("/api/v1/reports"))
            .header("Idempotency-Key", "anon")
            .json(&report_body("light_out", NORTH_CENTRE))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        problem(response, 401).await;
        let response = app
            .post_report("bdt_forged", "forged", &report_body("light_out", NORTH_CENTRE))
            .await;
        problem(response, 401).await;

        assert_eq!(app.report_count().await, 0, "bad input wrote nothing");
        app.stop().await;
    }

    async fn the_reporter_reads_the_report_and_its_history_others_get_404(db: Db) {
        let app = TestApp::spawn(db).await;
        let token = app.device().await;
        let mut body = report_body("bus_late", EAST);
        body["attributes"] = json!({"bus_line": "5", "minutes_late": 25});
        body["accuracy_m"] = json!(8.5);
        let created: Value = app.post_report(&token, "mine", &body).await.json().await.unwrap();
        let path = format!("/api/v1/reports/{}", created["id"].as_str().unwrap());

        let mine: Value = app.get(&token, &path).await.json().await.unwrap();
        assert_eq!(mine["reference"], created["reference"]);
        assert_eq!(mine["attributes"], json!({"bus_line": "5", "minutes_late": 25}));
        assert_eq!(mine["accuracy_m"], 8.5);
        let kinds: Vec<&str> = mine["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["created", "routed"]);

        let stranger = app.device().await;
        problem(app.get(&stranger, &path).await, 404).await;
        problem(app.get(&token, "/api/v1/reports/not-a-uuid").await, 404).await;
        problem(
            app.get(&token, &format!("/api/v1/reports/{}", uuid::Uuid::now_v7())).await,
            404,
        )
        .await;
        let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
        problem(anonymous, 401).await;
        app.stop().await;
    }

    async fn nearby_lists_open_reports_of_the_service_nearest_first(db: Db) {
        let app = TestApp::spawn(db).await;
        let token = app.device().await;
        let (lat, lon) = NORTH_CENTRE;
        // ~1 m per 0.00001° of latitude: 110 m and 30 m north, 600 m away, other service.
        let posts = [
            ("light_out", (lat + 0.0010, lon)),
            ("light_out", (lat + 0.0003, lon)),
            ("light_out", (lat + 0.0054, lon)),
            ("light_flickering", (lat, lon)),
        ];
        let mut ids = Vec::new();
        for (i, (service, point)) in posts.into_iter().enumerate() {
            let body: Value = app
                .post_report(&token, &format!("n{i}"), &report_body(service, point))
                .await
                .json()
                .await
                .unwrap();
            ids.push(body["id"].clone());
        }
        let other = app.device().await;
        let response = app
            .get(&other, &format!("/api/v1/reports/nearby?lat={lat}&lon={lon}&service_code=light_out"))
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let mut found: Vec<&Value> = body["reports"].as_array().unwrap().iter().map(|r| &r["id"]).collect();
        found.sort_by_key(|v| v.to_string());
        let mut expected = vec![&ids[1], &ids[0]];
        expected.sort_by_key(|v| v.to_string());
        assert_eq!(found, expected);
        // What the public may know: the point on the 100 m grid, the distance from it
        // rounded to 50 m, the time to the hour.
        let grid = balagh_domain::publish::RecordPolicy::default();
        for r in body["reports"].as_array().unwrap() {
            let distance = r["distance_m"].as_f64().unwrap();
            assert!(distance % 50.0 == 0.0 && distance <= 300.0, "{distance}");
            let point = balagh_domain::GeoPoint::parse(r["lat"].as_f64().unwrap(), r["lon"].as_f64().unwrap()).unwrap();
            assert!(grid.is_snapped(&point), "{r}");
            assert!(r["created_at"].as_str().unwrap().contains(":00:00"), "{r}");
        }
        let distances: Vec<f64> = body["reports"].as_array().unwrap().iter().map(|r| r["distance_m"].as_f64().unwrap()).collect();
        assert!(distances.windows(2).all(|w| w[0] <= w[1]), "nearest first: {distances:?}");
        assert_eq!(body["radius_m"], 250.0);
        // Paged.
        let page: Value = app
            .get(&other, &format!("/api/v1/reports/nearby?lat={lat}&lon={lon}&service_code=light_out&page_size=1&page=2"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["reports"].as_array().unwrap().len(), 1);
        problem(app.get(&other, &format!("/api/v1/reports/nearby?lat={lat}&lon={lon}&service_code=light_out&page_size=51")).await, 422).await;

        // A description with personal data is not shown; a sensitive service is never listed.
        let mut private = report_body("light_out", (lat + 0.0002, lon));
        private["description"] = serde_json::json!("Lampe cassée, appelez-moi au 0661234567");
        assert_eq!(app.post_report(&token, "n-private", &private).await.status(), 201);
        let mut conduct = report_body("bus_driver_conduct", (lat, lon));
        conduct["attributes"] = serde_json::json!({"bus_line": "7"});
        assert_eq!(app.post_report(&token, "n-conduct", &conduct).await.status(), 201);
        let text = app
            .get(&other, &format!("/api/v1/reports/nearby?lat={lat}&lon={lon}&service_code=light_out"))
            .await
            .text()
            .await
            .unwrap();
        assert!(!text.contains("0661234567"), "{text}");
        assert!(text.contains("problem seen this morning"), "clean descriptions stay: {text}");
        let none: Value = app
            .get(&other, &format!("/api/v1/reports/nearby?lat={lat}&lon={lon}&service_code=bus_driver_conduct"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(none["reports"].as_array().unwrap().len(), 0, "{none}");

        let p = problem(app.get(&other, "/api/v1/reports/nearby?lat=35.6&service_code=light_out").await, 400).await;
        assert_eq!(fields(&p), vec!["lon".to_owned()]);
        problem(app.get(&other, "/api/v1/reports/nearby?lat=abc&lon=1&service_code=light_out").await, 400).await;
        let p = problem(app.get(&other, &format!("/api/v1/reports/nearby?lat={lat}&lon={lon}&service_code=nope")).await, 422).await;
        assert_eq!(fields(&p), vec!["service_code".to_owned()]);
        problem(app.get(&other, "/api/v1/reports/nearby?lat=95&lon=1&service_code=light_out").await, 422).await;
        app.stop().await;
    }

    async fn me_too_counts_once_per_device(db: Db) {
        let app = TestApp::spawn(db).await;
        let reporter = app.device().await;
        let created: Value = app
            .post_report(&reporter, "r", &report_body("waste_bin_overflow", WEST))
            .await
            .json()
            .await
            .unwrap();
        let path = format!("/api/v1/reports/{}/support", created["id"].as_str().unwrap());
        let neighbour = app.device().await;
        let support = |token: String| {
            let request = app.client.post(app.url(&path)).bearer_auth(token);
            async move { request.send().await.unwrap() }
        };
        let first: Value = support(neighbour.clone()).await.json().await.unwrap();
        assert_eq!(first, json!({"supporters": 1, "already_supported": false}));
        let second: Value = support(neighbour.clone()).await.json().await.unwrap();
        assert_eq!(second, json!({"supporters": 1, "already_supported": true}));
        let third: Value = support(app.device().await).await.json().await.unwrap();
        assert_eq!(third["supporters"], 2);
        problem(support(reporter.clone()).await, 409).await;
        let unknown = app
            .client
            .post(app.url(&format!("/api/v1/reports/{}/support", uuid::Uuid::now_v7())))
            .bearer_auth(&neighbour)
            .send()
            .await
            .unwrap();
        problem(unknown, 404).await;

        let mine: Value = app
            .get(&reporter, &format!("/api/v1/reports/{}", created["id"].as_str().unwrap()))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(mine["supporters"], 2);
        let supported = mine["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "supported")
            .count();
        assert_eq!(supported, 2);
        app.stop().await;
    }

    async fn operations_endpoints_and_documentation_are_served(db: Db) {
        let app = TestApp::spawn(db).await;
        let get = |path: &str| app.client.get(app.url(path)).send();
        let health = get("/healthz").await.unwrap();
        assert_eq!(health.status(), 200);
        assert!(health.headers().contains_key("x-request-id"));
        let ready: Value = get("/readyz").await.unwrap().json().await.unwrap();
        assert_eq!(ready["status"], "ready");
        assert_eq!(ready["database"], match db { Db::Sqlite => "sqlite", Db::Postgres => "postgres" });
        let metrics = get("/metrics").await.unwrap().text().await.unwrap();
        assert!(metrics.contains("balagh_http_requests_total"), "{metrics}");
        let openapi: Value = get("/api/openapi.json").await.unwrap().json().await.unwrap();
        assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
        for path in ["/api/v1/reports", "/api/v1/reports/nearby", "/api/v1/reports/{id}", "/api/v1/reports/{id}/support", "/api/v1/devices", "/api/v1/services"] {
            assert!(openapi["paths"][path].is_object(), "{path} documented");
        }
        let docs = get("/api/docs/").await.unwrap();
        assert_eq!(docs.status(), 200);
        let html = docs.text().await.unwrap();
        assert!(html.contains("swagger-ui-bundle.js"));
        let asset = get("/api/docs/swagger-ui-bundle.js").await.unwrap();
        assert_eq!(asset.status(), 200);
        assert!(asset.bytes().await.unwrap().len() > 100_000, "assets are served by the binary");
        problem(get("/no/such/page").await.unwrap(), 404).await;
        let wrong_method = app.client.delete(app.url("/api/v1/services")).send().await.unwrap();
        problem(wrong_method, 405).await;
        app.stop().await;
    }
}

/// Every parameter of the served OpenAPI document is where its route puts it: a `{name}` in
/// the path template is an `in: path` parameter and every `in: path` parameter is one;
/// everything else (filters, pages, bounding boxes) is `in: query` or a header.
fn misplaced_parameters(openapi: &Value) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (template, item) in openapi["paths"].as_object().unwrap() {
        let placeholders: Vec<&str> = template
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        for (method, operation) in item.as_object().unwrap() {
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for parameter in &parameters {
                checked += 1;
                let name = parameter["name"].as_str().unwrap();
                let location = parameter["in"].as_str().unwrap();
                let in_template = placeholders.contains(&name);
                if in_template != (location == "path") {
                    wrong.push(format!(
                        "{method} {template}: `{name}` declared in {location}"
                    ));
                }
            }
            for placeholder in &placeholders {
                let declared = parameters
                    .iter()
                    .any(|p| p["name"] == *placeholder && p["in"] == "path");
                if !declared {
                    wrong.push(format!(
                        "{method} {template}: `{{{placeholder}}}` not declared in path"
                    ));
                }
            }
        }
    }
    (checked, wrong)
}

both_databases! {
    async fn openapi_parameters_are_where_their_routes_put_them(db: Db) {
        let app = TestApp::spawn(db).await;
        let openapi: Value = app.client.get(app.url("/api/openapi.json")).send().await.unwrap()
            .json().await.unwrap();
        let (checked, wrong) = misplaced_parameters(&openapi);
        println!("OpenAPI parameters checked: {checked}, misplaced: {}", wrong.len());
        assert!(wrong.is_empty(), "{} misplaced:\n{}", wrong.len(), wrong.join("\n"));
        assert!(checked > 50, "only {checked} parameters: is the document complete?");
        // Optional filters stay optional once they are query parameters.
        let nearby = &openapi["paths"]["/api/v1/reports/nearby"]["get"]["parameters"];
        assert!(nearby.as_array().unwrap().iter().all(|p| p["in"] == "query"), "{nearby}");
        app.stop().await;
    }
}

both_databases! {
    async fn refusals_before_the_body_is_read_close_the_connection(db: Db) {
        let app = TestApp::spawn(db).await;
        let device = app.device().await;
        let body = serde_json::json!({"url": "https://hooks.example/x"});
        let close = |response: &reqwest::Response| {
            response.headers().get("connection").and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let anonymous = app.client.put(app.url("/api/v1/operator/webhook")).json(&body).send().await.unwrap();
        assert_eq!((anonymous.status().as_u16(), close(&anonymous).as_deref()), (401, Some("close")));
        let forbidden = app.client.put(app.url("/api/v1/operator/webhook")).bearer_auth(&device).json(&body).send().await.unwrap();
        assert_eq!((forbidden.status().as_u16(), close(&forbidden).as_deref()), (403, Some("close")));
        // Nothing to leave unread: the connection stays open.
        let no_body = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_eq!((no_body.status().as_u16(), close(&no_body)), (401, None));
        let created = app.post_report(&device, "keep-alive", &report_body("waste_bin_overflow", WEST)).await;
        assert_eq!((created.status().as_u16(), close(&created)), (201, None));
        app.stop().await;
    }
}
