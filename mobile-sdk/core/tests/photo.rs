//! The SDK's own photo output, before anything reaches a server: upright, shrunk to fit
//! 2048 px, JPEG, and no EXIF, GPS or camera left in the bytes.

mod support;

use balagh_sdk::{Client, PhotoInput, ReportDraft, SdkError, shrink_photo};

#[tokio::test]
async fn shrunk_photos_are_upright_small_and_metadata_free() {
    let original = support::phone_jpeg(2400, 1600, 6);
    let shrunk = shrink_photo(original).await.unwrap();
    support::assert_metadata_free(&shrunk);
    assert_eq!(support::dimensions(&shrunk), (1365, 2048));

    // Small photos keep their size, and lose their metadata all the same.
    let small = shrink_photo(support::phone_jpeg(640, 480, 1))
        .await
        .unwrap();
    support::assert_metadata_free(&small);
    assert_eq!(support::dimensions(&small), (640, 480));
}

#[tokio::test]
async fn the_queued_copy_on_the_phone_is_the_clean_one() {
    let scratch = support::Scratch::new("photo");
    let client = Client::new("http://127.0.0.1:9", scratch.path("app"), "fr").unwrap();
    let path = scratch.path("camera.jpg");
    std::fs::write(&path, support::phone_jpeg(800, 600, 1)).unwrap();
    client
        .submit_report(ReportDraft {
            service_code: support::SERVICE.into(),
            lat: support::LAT,
            lon: support::LON,
            accuracy_m: None,
            description: "Poubelle renversée".into(),
            attributes: Default::default(),
            photos: vec![PhotoInput::File(path)],
        })
        .await
        .unwrap();
    let files: Vec<_> = std::fs::read_dir(scratch.path("app/outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    support::assert_metadata_free(&std::fs::read(&files[0]).unwrap());
}

#[tokio::test]
async fn unusable_input_is_refused_before_anything_is_queued() {
    let scratch = support::Scratch::new("refused");
    let client = Client::new("http://127.0.0.1:9", scratch.path("app"), "fr").unwrap();
    let mut draft = ReportDraft {
        service_code: support::SERVICE.into(),
        lat: support::LAT,
        lon: support::LON,
        accuracy_m: None,
        description: "Lampadaire éteint".into(),
        attributes: Default::default(),
        photos: vec![PhotoInput::Bytes(b"GIF89a not a photo".to_vec())],
    };
    assert!(matches!(
        client.submit_report(draft.clone()).await,
        Err(SdkError::InvalidInput(_))
    ));
    draft.photos.clear();
    draft.description = "   ".into();
    assert!(matches!(
        client.submit_report(draft).await,
        Err(SdkError::InvalidInput(_))
    ));
    assert!(client.queued_reports().await.unwrap().is_empty());
    assert!(matches!(
        Client::new("ftp://example", scratch.path("x"), "fr"),
        Err(SdkError::InvalidInput(_))
    ));
}
