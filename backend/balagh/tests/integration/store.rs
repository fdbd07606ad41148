//! The binary's use of the store, on both databases: the demo seeding and the synthetic
//! reports of `generate-reports`. The storage contract itself is `balagh_store::contract`,
//! run by each backend crate (`backend/store-*/tests/contract.rs`).

use crate::both_databases;
use crate::harness::*;
use balagh::demo::DemoData;

both_databases! {
    async fn the_demo_seeds_twice_in_place(db: Db) {
        let test_db = TestDb::new(db).await;
        let store = test_db.store().await;
        let demo = DemoData::load().unwrap();
        demo.seed(store.as_ref()).await.unwrap();
        let revision = store.catalog_revision().await.unwrap();
        assert!(revision >= 3, "{revision}");
        let policies = store.sla_policies().await.unwrap().len();
        assert!(policies > 0, "every demo contract's group has a policy");
        // Seeding again updates in place: no duplicates, revision moves on.
        demo.seed(store.as_ref()).await.unwrap();
        assert_eq!(store.contracts().await.unwrap().len(), demo.zones.len());
        assert_eq!(store.sla_policies().await.unwrap().len(), policies);
        assert!(store.catalog_revision().await.unwrap() > revision);
        store.close().await;
    }

    async fn generated_reports_are_counted(db: Db) {
        let test_db = TestDb::new(db).await;
        let store = test_db.store().await;
        DemoData::load().unwrap().seed(store.as_ref()).await.unwrap();
        balagh::generate::generate(&store, 2_000, 30).await.unwrap();
        assert_eq!(store.count_reports().await.unwrap(), 2_000);
        store.close().await;
    }
}
