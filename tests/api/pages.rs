//! The pages over plain HTTP (their behaviour in a browser is in `browser.rs`): served from the
//! binary with a Content-Security-Policy, every file they load from the server itself, our own
//! files free of other origins, the vendored files exactly as the manifest records them.

use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

const PAGES: [&str; 6] = ["/", "/staff", "/review", "/admin", "/report", "/graphql"];

/// The `src` and `href` values of a page.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find('"').unwrap();
            out.push(rest[..end].replace("&amp;", "&"));
            rest = &rest[end..];
        }
    }
    out
}

#[tokio::test]
async fn every_page_carries_a_same_origin_policy_and_loads_only_the_servers_own_files() {
    let app = TestApp::spawn().await;
    for page in PAGES {
        let response = app
            .client
            .get(app.url(page))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{page}");
        let headers = response.headers().clone();
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{page}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'self'; script-src 'self';"),
            "{page}: {csp}"
        );
        assert!(csp.contains("connect-src 'self'"), "{page}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
        if page != "/graphql" {
            assert!(!csp.contains("unsafe"), "{page}: {csp}");
        }
        let html = response.text().await.unwrap();
        let links = links(&html);
        assert!(!links.is_empty(), "{page}");
        for link in links {
            assert!(
                link.starts_with('/') && !link.starts_with("//"),
                "{page} loads {link} from elsewhere"
            );
            let (status, _) = app.get(&link).await;
            assert_eq!(status, 200, "{page} loads {link}");
        }
    }
}

#[tokio::test]
async fn assets_are_revalidated_by_etag_and_compressed() {
    let app = TestApp::spawn().await;
    let first = app
        .client
        .get(app.url("/assets/vendor/echarts.common.min.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-encoding"], "gzip");
    assert_eq!(first.headers()["cache-control"], "no-cache");
    assert_eq!(
        first.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = first.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url("/assets/vendor/echarts.common.min.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // The encoding the client prefers, made once (brotli at build time); the same file either way.
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/web/assets/vendor/echarts.common.min.js"
    ))
    .unwrap();
    let brotli = app
        .client
        .get(app.url("/assets/vendor/echarts.common.min.js"))
        .header("accept-encoding", "gzip;q=0.5, br")
        .send()
        .await
        .unwrap();
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(brotli.headers()["etag"], first.headers()["etag"]);
    let packed = brotli.bytes().await.unwrap();
    assert!(packed.len() < file.len() / 3, "{}", packed.len());
    let mut unpacked = Vec::new();
    brotli::BrotliDecompress(&mut &packed[..], &mut unpacked).unwrap();
    assert_eq!(unpacked, file);
    let plain = app
        .client
        .get(app.url("/assets/vendor/echarts.common.min.js"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap(), file);
    assert_eq!(app.get("/assets/nope.js").await.0, 404);
    assert_eq!(app.get("/assets/../Cargo.toml").await.0, 404);
}

/// Our own front-end files name no other origin (the vendored bundles are checked by hash).
#[test]
fn our_own_front_end_files_name_no_other_origin() {
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
    let mut checked = 0;
    let pages = std::fs::read_dir(format!("{web}/pages")).unwrap();
    for entry in pages.chain(std::fs::read_dir(format!("{web}/assets")).unwrap()) {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // The SVG namespace is a name, not a place anything is fetched from.
        let text = text.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
            "{} names another origin",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 9, "{checked}");
}

/// Every vendored file is the one `web/assets/vendor/manifest.txt` records (its sha256); the manifest
/// records the npm integrity of each package (scripts/vendor.sh checks them against npm).
#[test]
fn the_vendored_files_are_exactly_the_ones_the_manifest_records() {
    let vendor = concat!(env!("CARGO_MANIFEST_DIR"), "/web/assets/vendor");
    let manifest = std::fs::read_to_string(format!("{vendor}/manifest.txt")).unwrap();
    let mut files = 0;
    let mut tarballs = 0;
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[0] {
            "file" => {
                let [_, package, version, _, committed, sha256, licence] = fields[..] else {
                    panic!("bad manifest line: {line}");
                };
                let bytes = std::fs::read(format!("{vendor}/{committed}")).unwrap();
                let digest: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                assert_eq!(digest, sha256, "{committed} of {package}@{version}");
                assert!(!licence.is_empty());
                files += 1;
            }
            "tarball" => {
                assert!(fields[3].starts_with("sha512-"), "{line}");
                tarballs += 1;
            }
            other => panic!("unknown manifest line {other}"),
        }
    }
    assert_eq!((files, tarballs), (11, 4));
}
