//! Photos end to end: upload URLs (a real S3-protocol server that verifies SigV4, embedded
//! in the test process, and this server's own signed URLs on local disk), processing,
//! privacy of the renditions, who sees what, moderation, evidence, drafts and garbage
//! collection. Every test runs on both databases and both object stores.

use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};
use std::time::Duration;

#[allow(dead_code)]
#[path = "../../../media/tests/pipeline/support.rs"]
mod fixtures;

use fixtures::{
    contains, grey_with_red_corner, header_markers, heic_header, phone_jpeg, photo_like, png,
    png_bomb,
};

const BUCKET: &str = "balagh-photos";
const ACCESS_KEY: &str = "balagh-test-access";
const SECRET_KEY: &str = "balagh-test-secret-key-0123456789";

/// `s3s-fs` (an S3 server over a directory, from crates.io) on a free port, with SigV4
/// checks against one access key.
struct S3Server {
    endpoint: String,
    root: std::path::PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    async fn start() -> Self {
        let root =
            std::env::temp_dir().join(format!("balagh-s3-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let fs = s3s_fs::FileSystem::new(&root).unwrap();
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            endpoint,
            root,
            task,
        }
    }

    fn config(&self) -> balagh_objects::StorageConfig {
        balagh_objects::StorageConfig::S3(balagh_objects::S3Config {
            endpoint: Some(self.endpoint.clone()),
            region: "us-east-1".into(),
            bucket: BUCKET.into(),
            path_style: true,
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: balagh_objects::Secret::new(SECRET_KEY),
        })
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objects {
    Local,
    S3,
}

/// Runs a test body on both databases and both object stores: `name::sqlite_local`,
/// `name::sqlite_s3`, `name::postgres_local`, `name::postgres_s3`.
macro_rules! all_stores {
    ($(async fn $name:ident($db:ident: Db, $objects:ident: Objects) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($db: Db, $objects: Objects) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite_local() { run(Db::Sqlite, Objects::Local).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite_s3() { run(Db::Sqlite, Objects::S3).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_local() { run(Db::Postgres, Objects::Local).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_s3() { run(Db::Postgres, Objects::S3).await }
            }
        )*
    };
}

struct PhotoApp {
    app: TestApp,
    _s3: Option<S3Server>,
}

impl std::ops::Deref for PhotoApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

async fn spawn(db: Db, objects: Objects, photos: balagh_app::PhotoSettings) -> PhotoApp {
    let s3 = match objects {
        Objects::Local => None,
        Objects::S3 => Some(S3Server::start().await),
    };
    let api = balagh_api::ApiSettings {
        app: balagh_app::AppSettings {
            photos,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = TestApp::spawn_full(db, api, fast_workers(), s3.as_ref().map(S3Server::config)).await;
    PhotoApp { app, _s3: s3 }
}

async fn spawn_default(db: Db, objects: Objects) -> PhotoApp {
    spawn(db, objects, balagh_app::PhotoSettings::default()).await
}

impl PhotoApp {
    async fn slot(&self, token: &str, report_id: &str) -> reqwest::Response {
        self.post_as(
            token,
            &format!("/api/v1/reports/{report_id}/photos/uploads"),
            None,
            None,
        )
        .await
    }

    async fn put(&self, url: &str, bytes: Vec<u8>) -> reqwest::Response {
        self.client
            .put(url)
            .header("content-type", "image/jpeg")
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    async fn confirm(&self, token: &str, photo_id: &str) -> reqwest::Response {
        self.post_as(
            token,
            &format!("/api/v1/photos/uploads/{photo_id}/confirm"),
            None,
            None,
        )
        .await
    }

    /// Slot, PUT, confirm: the confirm's response.
    async fn upload(&self, token: &str, report_id: &str, bytes: Vec<u8>) -> reqwest::Response {
        let slot = self.slot(token, report_id).await;
        assert_eq!(slot.status(), 201);
        let slot: Value = slot.json().await.unwrap();
        let put = self.put(slot["upload_url"].as_str().unwrap(), bytes).await;
        assert!(put.status().is_success(), "PUT: {}", put.status());
        self.confirm(token, slot["photo_id"].as_str().unwrap())
            .await
    }

    async fn fetch(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.unwrap()
    }

    async fn multipart(
        &self,
        token: &str,
        report_id: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let boundary = "balagh-test-boundary-7d0f";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{file_name}\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.client
            .post(self.url(&format!("/api/v1/reports/{report_id}/photos")))
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

/// The URL with one character of its signature changed.
fn tampered(url: &str) -> String {
    let marker = ["X-Amz-Signature=", "sig="]
        .into_iter()
        .find_map(|m| url.find(m).map(|at| at + m.len()))
        .expect("a signed URL");
    let mut bytes = url.as_bytes().to_vec();
    bytes[marker] = if bytes[marker] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap()
}

fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    phone_jpeg(&photo_like(width, height), 1)
}

/// A JPEG without EXIF, XMP or any APPn segment but JFIF.
fn assert_clean_jpeg(bytes: &[u8]) {
    assert_eq!(&bytes[..2], [0xFF, 0xD8], "a JPEG");
    let markers = header_markers(bytes);
    assert!(
        markers.iter().all(|m| !(0xE1..=0xEF).contains(m)),
        "only JFIF may remain: {markers:x?}"
    );
    assert!(!contains(bytes, b"Exif"), "EXIF left");
    assert!(!contains(bytes, b"http://ns.adobe.com/xap"), "XMP left");
    assert!(
        !contains(bytes, fixtures::CAMERA_MODEL.as_bytes()),
        "camera model left"
    );
}

async fn json(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

all_stores! {
    async fn an_upload_url_works_once_signed_and_not_when_altered_or_expired(db: Db, objects: Objects) {
        let app = spawn(db, objects, balagh_app::PhotoSettings {
            upload_url_ttl: Duration::from_secs(3),
            ..Default::default()
        }).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let slot = json(app.slot(&resident, id).await, 201).await;
        let url = slot["upload_url"].as_str().unwrap().to_owned();
        match objects {
            Objects::S3 => assert!(url.contains("X-Amz-Signature="), "{url}"),
            Objects::Local => assert!(url.contains("/api/v1/uploads/") && url.contains("sig="), "{url}"),
        }
        let bytes = jpeg_with_gps(64, 48);
        // One character changed: refused, and nothing is stored.
        let refused = app.put(&tampered(&url), bytes.clone()).await;
        assert_eq!(refused.status(), 403, "{}", refused.text().await.unwrap());
        problem(app.confirm(&resident, slot["photo_id"].as_str().unwrap()).await, 409).await;
        // As signed: accepted.
        let put = app.put(&url, bytes.clone()).await;
        assert!(put.status().is_success(), "{}", put.status());
        // Expired: refused.
        tokio::time::sleep(Duration::from_millis(4500)).await;
        let late = app.put(&url, bytes).await;
        assert_eq!(late.status(), 403, "{}", late.text().await.unwrap());
        // What arrived in time is confirmed.
        let photo = json(app.confirm(&resident, slot["photo_id"].as_str().unwrap()).await, 201).await;
        assert_eq!(photo["id"], slot["photo_id"]);
        app.app.stop().await;
    }

    async fn renditions_of_a_phone_jpeg_carry_no_metadata_and_staff_see_the_gps_distance(db: Db, objects: Objects) {
        let app = spawn_default(db, objects).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let original = jpeg_with_gps(900, 600);
        assert!(contains(&original, b"Exif"));
        let photo = json(app.upload(&resident, id, original).await, 201).await;
        assert_eq!((photo["width"].as_u64(), photo["height"].as_u64()), (Some(900), Some(600)));
        assert_eq!(photo["purpose"], "report");
        assert_eq!(photo["uploaded_by"], "resident");
        assert!(photo.get("gps_distance_m").is_none(), "residents do not see it: {photo}");
        for rendition in ["large", "thumbnail"] {
            let fetched = app.fetch(photo[rendition]["url"].as_str().unwrap()).await;
            assert_eq!(fetched.status(), 200);
            let bytes = fetched.bytes().await.unwrap();
            assert_clean_jpeg(&bytes);
            let decoded = image::load_from_memory(&bytes).unwrap();
            assert_eq!(u64::from(decoded.width()), photo[rendition]["width"].as_u64().unwrap());
        }
        assert_eq!(photo["thumbnail"]["width"], 400);
        // The original is gone from storage: only renditions remain.
        let stored = app.state.photos().objects.get(&format!("uploads/{}", photo["id"].as_str().unwrap())).await.unwrap();
        assert!(stored.is_none());
        // The phone was at the demo centre, about 3 km from the pin: staff see the flag.
        let staff = app.user(Role::StaffAgent, None).await;
        let list = json(app.get(&staff.token, &format!("/api/v1/reports/{id}/photos")).await, 200).await;
        let seen = &list["photos"][0];
        let distance = seen["gps_distance_m"].as_f64().unwrap();
        assert!((2500.0..3500.0).contains(&distance), "{distance}");
        assert_eq!(seen["gps_far"], true);
        // The staff report view and the resident's report carry the photo too.
        let staff_view = json(app.get(&staff.token, &format!("/api/v1/staff/reports/{id}")).await, 200).await;
        assert_eq!(staff_view["photos"][0]["id"], photo["id"]);
        let mine = json(app.get(&resident, &format!("/api/v1/reports/{id}")).await, 200).await;
        assert_eq!(mine["photos"][0]["id"], photo["id"]);
        assert!(mine["history"].as_array().unwrap().iter().any(|e| e["kind"] == "photo_added"));
        app.app.stop().await;
    }

    async fn a_rotated_photo_comes_out_upright(db: Db, objects: Objects) {
        let app = spawn_default(db, objects).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let stored = grey_with_red_corner(600, 400, 120);
        let rotated = fixtures::insert_after_soi(
            &fixtures::jpeg(&stored),
            &[fixtures::exif_app1(&fixtures::phone_exif_fields(6))],
        );
        let photo = json(app.upload(&resident, report["id"].as_str().unwrap(), rotated).await, 201).await;
        assert_eq!((photo["width"].as_u64(), photo["height"].as_u64()), (Some(400), Some(600)));
        let bytes = app.fetch(photo["large"]["url"].as_str().unwrap()).await.bytes().await.unwrap();
        let upright = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(upright.dimensions(), (400, 600));
        let red = |x: u32, y: u32| {
            let [r, g, b] = upright.get_pixel(x, y).0;
            r > 180 && g < 80 && b < 80
        };
        // Orientation 6: the stored top-left corner is the upright top-right.
        assert!(red(380, 20) && !red(20, 20) && !red(20, 580) && !red(380, 580));
        app.app.stop().await;
    }

    async fn bombs_truncated_files_heic_and_oversized_uploads_are_refused_and_real_types_win(db: Db, objects: Objects) {
        let app = spawn(db, objects, balagh_app::PhotoSettings {
            limits: balagh_media::PhotoLimits { max_bytes: 200_000, ..Default::default() },
            ..Default::default()
        }).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();

        let bomb = problem(app.upload(&resident, id, png_bomb(100_000, 100_000)).await, 422).await;
        assert_eq!(bomb["type"], "urn:balagh:problem:photo-too-many-pixels");
        let full = fixtures::jpeg(&photo_like(320, 240));
        let truncated = problem(app.upload(&resident, id, full[..full.len() / 2].to_vec()).await, 422).await;
        assert_eq!(truncated["type"], "urn:balagh:problem:photo-corrupt");
        let heic = problem(app.upload(&resident, id, heic_header()).await, 415).await;
        assert_eq!(heic["type"], "urn:balagh:problem:photo-heic");
        assert!(heic["detail"].as_str().unwrap().contains("send the photo as JPEG"), "{heic}");
        // Too big: this server refuses it while receiving it; S3 takes it, the confirm refuses.
        let slot = json(app.slot(&resident, id).await, 201).await;
        let put = app.put(slot["upload_url"].as_str().unwrap(), vec![0xFF; 250_000]).await;
        let big = match objects {
            Objects::Local => problem(put, 413).await,
            Objects::S3 => {
                assert!(put.status().is_success());
                problem(app.confirm(&resident, slot["photo_id"].as_str().unwrap()).await, 413).await
            }
        };
        assert_eq!(big["type"], "urn:balagh:problem:photo-too-large");

        // A PNG sent as "photo.jpg" with an image/jpeg type is handled as the PNG it is.
        let as_jpg = png(&photo_like(120, 80));
        let photo = json(app.upload(&resident, id, as_jpg.clone()).await, 201).await;
        let bytes = app.fetch(photo["large"]["url"].as_str().unwrap()).await.bytes().await.unwrap();
        assert_clean_jpeg(&bytes);
        assert_eq!((photo["width"].as_u64(), photo["height"].as_u64()), (Some(120), Some(80)));

        // The same through the one-step multipart upload.
        let photo = json(app.multipart(&resident, id, "photo.jpg", &as_jpg).await, 201).await;
        assert_eq!(photo["width"], 120);
        problem(app.multipart(&resident, id, "IMG_0001.HEIC", &heic_header()).await, 415).await;
        problem(app.multipart(&resident, id, "bomb.png", &png_bomb(100_000, 100_000)).await, 422).await;
        problem(app.multipart(&resident, id, "cut.jpg", &full[..full.len() / 2]).await, 422).await;
        problem(app.multipart(&resident, id, "big.jpg", &vec![0xFF; 250_000]).await, 413).await;

        // Refusals stored nothing: exactly the two accepted photos.
        let list = json(app.get(&resident, &format!("/api/v1/reports/{id}/photos")).await, 200).await;
        assert_eq!(list["photos"].as_array().unwrap().len(), 2);
        app.app.stop().await;
    }

    async fn only_the_reporter_the_assigned_operator_and_staff_see_or_add_photos(db: Db, objects: Objects) {
        let app = spawn_default(db, objects).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let photo = json(app.upload(&resident, id, jpeg_with_gps(80, 60)).await, 201).await;
        let photo_id = photo["id"].as_str().unwrap();
        let list_path = format!("/api/v1/reports/{id}/photos");

        // Another resident and another operator: the report does not exist for them.
        let stranger = app.device().await;
        let other_operator = app.user(Role::OperatorAgent, Some("bia-nord-demo")).await;
        for token in [stranger.as_str(), other_operator.token.as_str()] {
            problem(app.get(token, &list_path).await, 404).await;
            problem(app.slot(token, id).await, 404).await;
            problem(app.multipart(token, id, "x.jpg", &jpeg_with_gps(8, 8)).await, 404).await;
            // Nor can they confirm someone else's upload.
            problem(app.confirm(token, photo_id).await, 404).await;
        }
        problem(app.client.get(app.url(&list_path)).send().await.unwrap(), 401).await;
        // An analyst may look, not add.
        let analyst = app.user(Role::StaffAnalyst, None).await;
        assert_eq!(app.get(&analyst.token, &list_path).await.status(), 200);
        problem(app.slot(&analyst.token, id).await, 403).await;

        // The assigned operator adds resolution evidence and resolves with it.
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let evidence = json(app.upload(&agent.token, id, jpeg_with_gps(80, 60)).await, 201).await;
        assert_eq!(evidence["purpose"], "evidence");
        assert_eq!(evidence["uploaded_by"], "operator");
        let ticket = app.get(&agent.token, &format!("/api/v1/operator/tickets/{id}")).await;
        let etag = ticket.headers()["etag"].to_str().unwrap().to_owned();
        let ticket: Value = ticket.json().await.unwrap();
        assert_eq!(ticket["photos"].as_array().unwrap().len(), 2);
        let resolve = format!("/api/v1/operator/tickets/{id}/actions/resolve");
        // Unknown ids, the resident's photo and free text are refused.
        for bad in [uuid::Uuid::now_v7().to_string(), photo_id.to_owned(), "photo-1".to_owned()] {
            let p = problem(app.post_as(&agent.token, &resolve, Some(&etag), Some(json!({"note": "done", "evidence_photo": bad}))).await, 422).await;
            assert_eq!(fields(&p), vec!["evidence_photo".to_owned()]);
        }
        let resolved = json(app.post_as(&agent.token, &resolve, Some(&etag), Some(json!({"note": "done", "evidence_photo": evidence["id"]}))).await, 200).await;
        assert_eq!(resolved["status"], "resolved");

        // Everyone involved sees both; the stranger still nothing.
        let mine = json(app.get(&resident, &list_path).await, 200).await;
        assert_eq!(mine["photos"].as_array().unwrap().len(), 2);
        problem(app.get(&stranger, &list_path).await, 404).await;
        app.app.stop().await;
    }

    async fn the_public_sees_only_photos_staff_approved(db: Db, objects: Objects) {
        let app = spawn_default(db, objects).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let first = json(app.upload(&resident, id, jpeg_with_gps(80, 60)).await, 201).await;
        let second = json(app.multipart(&resident, id, "b.jpg", &fixtures::jpeg(&photo_like(50, 50))).await, 201).await;
        let public_path = format!("/api/v1/public/reports/{id}/photos");
        let public = json(app.client.get(app.url(&public_path)).send().await.unwrap(), 200).await;
        assert!(public["photos"].as_array().unwrap().is_empty());

        let staff = app.user(Role::StaffAgent, None).await;
        let moderation = |photo: &Value| format!("/api/v1/staff/photos/{}/moderation", photo["id"].as_str().unwrap());
        // Residents and operators cannot moderate.
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        problem(app.post_as(&agent.token, &moderation(&first), None, Some(json!({"approved": true}))).await, 403).await;
        problem(app.post_as(&resident, &moderation(&first), None, Some(json!({"approved": true}))).await, 403).await;
        let approved = json(app.post_as(&staff.token, &moderation(&second), None, Some(json!({"approved": true}))).await, 200).await;
        assert_eq!(approved["approved"], true);

        let public = json(app.client.get(app.url(&public_path)).send().await.unwrap(), 200).await;
        let photos = public["photos"].as_array().unwrap();
        assert_eq!(photos.len(), 1);
        assert_eq!(photos[0]["id"], second["id"]);
        assert!(photos[0].get("gps_distance_m").is_none());
        assert_eq!(app.fetch(photos[0]["thumbnail"]["url"].as_str().unwrap()).await.status(), 200);
        // Hidden again: gone from the public view.
        json(app.post_as(&staff.token, &moderation(&second), None, Some(json!({"approved": false}))).await, 200).await;
        let public = json(app.client.get(app.url(&public_path)).send().await.unwrap(), 200).await;
        assert!(public["photos"].as_array().unwrap().is_empty());
        let history = json(app.get(&staff.token, &format!("/api/v1/staff/reports/{id}")).await, 200).await;
        let moderated = history["history"].as_array().unwrap().iter().filter(|e| e["kind"] == "photo_moderated").count();
        assert_eq!(moderated, 2);
        problem(app.client.get(app.url(&format!("/api/v1/public/reports/{}/photos", uuid::Uuid::now_v7()))).send().await.unwrap(), 404).await;

        // Read in one statement, the report, its history and its photos (one moderated, one
        // with a GPS distance) are exactly what the three separate reads return.
        let report_id: uuid::Uuid = id.parse().unwrap();
        let details = app.store.report_details(report_id).await.unwrap().unwrap();
        assert_eq!(Some(details.report), app.store.report(report_id).await.unwrap());
        assert_eq!(details.events, app.store.report_events(report_id).await.unwrap());
        assert_eq!(details.photos, app.store.report_photos(report_id).await.unwrap());
        assert_eq!(details.photos.len(), 2);
        assert!(details.photos.iter().any(|p| p.moderated_by.is_some() && p.moderated_at.is_some()));
        assert!(details.photos.iter().any(|p| p.gps_distance_m.is_some()));
        assert!(details.events.len() >= 4, "{:?}", details.events);
        assert!(app.store.report_details(uuid::Uuid::now_v7()).await.unwrap().is_none());
        app.app.stop().await;
    }

    async fn a_draft_photo_is_attached_when_the_report_is_submitted(db: Db, objects: Objects) {
        let app = spawn_default(db, objects).await;
        let resident = app.device().await;
        let slot = json(app.post_as(&resident, "/api/v1/photos/uploads", None, None).await, 201).await;
        let put = app.put(slot["upload_url"].as_str().unwrap(), jpeg_with_gps(120, 90)).await;
        assert!(put.status().is_success());
        let draft = json(app.confirm(&resident, slot["photo_id"].as_str().unwrap()).await, 201).await;
        assert!(draft["report_id"].is_null());
        // Confirming again answers with the same photo.
        let again = json(app.confirm(&resident, slot["photo_id"].as_str().unwrap()).await, 200).await;
        assert_eq!(again["id"], draft["id"]);

        // Another device cannot use it.
        let other = app.device().await;
        let mut body = report_body("waste_bin_overflow", NORTH_CENTRE);
        body["photos"] = json!([draft["id"]]);
        let p = problem(app.post_report(&other, "k-other", &body).await, 422).await;
        assert_eq!(fields(&p), vec!["photos".to_owned()]);
        assert_eq!(app.report_count().await, 0, "bad input writes nothing");

        let created = json(app.post_report(&resident, "k-1", &body).await, 201).await;
        let id = created["id"].as_str().unwrap();
        // A retried submission replays, and does not trip over its own attached draft.
        let replay = app.post_report(&resident, "k-1", &body).await;
        assert_eq!(replay.status(), 201);
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        // Attached to the report; the pin is where the phone was: not far.
        let staff = app.user(Role::StaffAgent, None).await;
        let list = json(app.get(&staff.token, &format!("/api/v1/reports/{id}/photos")).await, 200).await;
        let photo = &list["photos"][0];
        assert_eq!(photo["id"], draft["id"]);
        assert!(photo["gps_distance_m"].as_f64().unwrap() < 2600.0);
        // Drafts cannot be attached twice.
        let (_, second) = app.reported("waste_bin_overflow", WEST).await;
        let p = problem(app.post_as(&resident, &format!("/api/v1/reports/{}/photos/attach", second["id"].as_str().unwrap()), None, Some(json!({"photo_ids": [draft["id"]]}))).await, 404).await;
        assert_eq!(p["status"], 404, "not this device's report");
        app.app.stop().await;
    }

    async fn a_report_and_its_draft_photo_are_stored_together_and_the_webhook_names_it(db: Db, objects: Objects) {
        let app = spawn_default(db, objects).await;
        let receiver = crate::tickets::Receiver::start().await;
        let manager = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let endpoint: Value = app.client.put(app.url("/api/v1/operator/webhook")).bearer_auth(&manager.token)
            .json(&json!({"url": receiver.url})).send().await.unwrap().json().await.unwrap();
        receiver.set_secret(endpoint["secret"].as_str().unwrap());
        let resident = app.device().await;
        let slot = json(app.post_as(&resident, "/api/v1/photos/uploads", None, None).await, 201).await;
        assert!(app.put(slot["upload_url"].as_str().unwrap(), jpeg_with_gps(96, 72)).await.status().is_success());
        let draft = json(app.confirm(&resident, slot["photo_id"].as_str().unwrap()).await, 201).await;

        // Three different submissions race for the one draft: one report gets it, the others
        // are refused and write nothing (no report, no webhook).
        let body = |n: usize| {
            let mut body = report_body("waste_bin_overflow", WEST);
            body["description"] = json!(format!("Conteneur plein, photo jointe ({n})"));
            body["photos"] = json!([draft["id"]]);
            body
        };
        let (a, b, c) = (body(1), body(2), body(3));
        let (a, b, c) = tokio::join!(
            app.post_report(&resident, "race-1", &a),
            app.post_report(&resident, "race-2", &b),
            app.post_report(&resident, "race-3", &c),
        );
        let mut created = Vec::new();
        for response in [a, b, c] {
            if response.status() == 201 {
                created.push(response.json::<Value>().await.unwrap());
            } else {
                assert_eq!(fields(&problem(response, 422).await), vec!["photos".to_owned()]);
            }
        }
        assert_eq!(created.len(), 1, "one report gets the draft");
        assert_eq!(app.report_count().await, 1, "the refused ones wrote nothing");
        let id = created[0]["id"].as_str().unwrap();

        // The operator's first delivery already names the photo, as its history does.
        let got = receiver.wait_for(1).await;
        assert_eq!(got[0]["type"], "ticket.created");
        assert_eq!(got[0]["data"]["id"], id);
        let named = &got[0]["data"]["event"]["photos"];
        assert_eq!(named, &json!([{"photo_id": draft["id"], "purpose": "report", "uploader": "resident"}]));
        let ticket = json(app.get(&manager.token, &format!("/api/v1/operator/tickets/{id}")).await, 200).await;
        let added: Vec<&Value> = ticket["history"].as_array().unwrap().iter().filter(|e| e["kind"] == "photo_added").collect();
        assert_eq!(added.len(), 1, "{ticket}");
        assert_eq!(added[0]["data"]["photo_id"], draft["id"]);
        let list = json(app.get(&resident, &format!("/api/v1/reports/{id}/photos")).await, 200).await;
        assert_eq!(list["photos"][0]["id"], draft["id"]);
        app.app.stop().await;
    }

    async fn unconfirmed_uploads_and_abandoned_drafts_are_collected(db: Db, objects: Objects) {
        let app = spawn(db, objects, balagh_app::PhotoSettings {
            unconfirmed_ttl: Duration::ZERO,
            ..Default::default()
        }).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        // A confirmed photo stays.
        let kept = json(app.upload(&resident, id, jpeg_with_gps(64, 64)).await, 201).await;
        // An upload never confirmed, and a draft never attached.
        let slot = json(app.slot(&resident, id).await, 201).await;
        assert!(app.put(slot["upload_url"].as_str().unwrap(), jpeg_with_gps(70, 70)).await.status().is_success());
        let draft_slot = json(app.post_as(&resident, "/api/v1/photos/uploads", None, None).await, 201).await;
        assert!(app.put(draft_slot["upload_url"].as_str().unwrap(), fixtures::jpeg(&photo_like(90, 90))).await.status().is_success());
        let draft = json(app.confirm(&resident, draft_slot["photo_id"].as_str().unwrap()).await, 201).await;
        let upload_key = format!("uploads/{}", slot["photo_id"].as_str().unwrap());
        let objects_api = &app.state.photos().objects;
        assert!(objects_api.get(&upload_key).await.unwrap().is_some());

        tokio::time::sleep(Duration::from_millis(20)).await;
        let collected = balagh::workers::photo_gc_once(&app.state).await.unwrap();
        assert_eq!(collected, balagh::workers::PhotoGarbage { uploads: 1, drafts: 1 });
        assert!(objects_api.get(&upload_key).await.unwrap().is_none(), "upload deleted");
        problem(app.confirm(&resident, slot["photo_id"].as_str().unwrap()).await, 404).await;
        problem(app.get(&resident, &format!("/api/v1/reports/{id}/photos/attach")).await, 405).await;
        // The draft's renditions are gone; the kept photo's are not.
        assert_eq!(app.fetch(draft["large"]["url"].as_str().unwrap()).await.status(), 404);
        assert_eq!(app.fetch(kept["large"]["url"].as_str().unwrap()).await.status(), 200);
        // Nothing left to collect: a second replica's round finds nothing.
        let again = balagh::workers::photo_gc_once(&app.state).await.unwrap();
        assert_eq!(again, balagh::workers::PhotoGarbage::default());
        let list = json(app.get(&resident, &format!("/api/v1/reports/{id}/photos")).await, 200).await;
        assert_eq!(list["photos"].as_array().unwrap().len(), 1);
        app.app.stop().await;
    }
}
