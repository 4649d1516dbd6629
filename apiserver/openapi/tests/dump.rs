//! `RKUBE_OPENAPI_DUMP=/dir cargo test -p rkube-openapi --test dump -- --ignored`
//! writes the default documents to /dir for inspection and kubectl checks.

#[test]
#[ignore]
fn dump() {
    let dir = std::env::var("RKUBE_OPENAPI_DUMP").expect("RKUBE_OPENAPI_DUMP");
    let dir = std::path::Path::new(&dir);
    let api = rkube_openapi::OpenApi::new(rkube_openapi::DEFAULT_RESOURCES);
    std::fs::create_dir_all(dir.join("v3")).unwrap();
    std::fs::write(dir.join("v2.json"), api.v2_json()).unwrap();
    std::fs::write(dir.join("v2.pb"), api.v2_protobuf()).unwrap();
    std::fs::write(dir.join("v3.json"), api.v3_index()).unwrap();
    for gv in api.group_versions() {
        let file = dir
            .join("v3")
            .join(format!("{}.json", gv.replace('/', "_")));
        std::fs::write(file, api.v3_document(gv).unwrap()).unwrap();
    }
}
