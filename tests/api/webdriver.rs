//! The browser for the browser tests: Debian's `chromium` driven by Debian's `chromium-driver`
//! (never a browser a crate or script downloads), headless, over the W3C WebDriver protocol with
//! fantoccini. It also collects what the checks of every browser test need: the console
//! (chromedriver's `browser` log) and every request the pages made (its `performance` log: the
//! DevTools protocol's Network events, WebSockets included). Those logs are chromedriver's own
//! endpoint, which fantoccini sends as a custom command ([`Log`]).
//!
//! Without chromium or chromedriver the tests say so on stderr and pass, so that `cargo test`
//! runs everywhere; `COVERAGE_API_BROWSER_TESTS=required` (set by `.ci/run`) makes that a failure.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::Method;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand, WindowHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// A headless Chromium with its own profile, driven through its own chromedriver.
pub struct Browser {
    client: Client,
    driver_addr: String,
    session: String,
    driver: Child,
    profile: PathBuf,
    /// Every request the pages made since the start, from the performance log.
    requests: Vec<String>,
    /// Every console entry since the start.
    console: Vec<Value>,
    /// Console errors a test expects (see [`Browser::expect_console_error`]).
    expected: Vec<String>,
}

/// chromedriver's log endpoint (`POST /session/{id}/se/log`), which is not W3C WebDriver: the
/// entries of one log (`browser` or `performance`) since it was last read.
#[derive(Debug)]
struct Log(&'static str);

impl WebDriverCompatibleCommand for Log {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({ "type": self.0 }).to_string()))
    }
}

/// A DevTools command sent through chromedriver (`goog/cdp/execute`), e.g. `Page.printToPDF`.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (
            Method::POST,
            Some(json!({ "cmd": self.0, "params": self.1 }).to_string()),
        )
    }
}

/// Writes straight to stderr, past the test harness's capture: a skipped browser test and the
/// measurements should be seen in `cargo test`'s output.
pub fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    writeln!(err, "{line}").ok();
}

fn executable(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a window of 1366×768. `None`, after
    /// saying why on stderr, when either is missing, unless `COVERAGE_API_BROWSER_TESTS` is
    /// `required`, which makes it a failure.
    pub async fn start(test: &str) -> Option<Self> {
        let chromium = executable("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = executable("CHROMEDRIVER", "/usr/bin/chromedriver");
        let required = std::env::var("COVERAGE_API_BROWSER_TESTS").is_ok_and(|v| v == "required");
        for path in [&chromium, &chromedriver] {
            if !path.exists() {
                let why = format!(
                    "browser test {test} SKIPPED: {} not found (install Debian's chromium and \
                     chromium-driver: apt-get install chromium chromium-driver; \
                     COVERAGE_API_BROWSER_TESTS=required makes this a failure)",
                    path.display()
                );
                assert!(!required, "{why}");
                say(&why);
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver_addr = format!("127.0.0.1:{port}");
        let profile = std::env::temp_dir().join(format!(
            "coverage-api-chromium-{}-{test}",
            std::process::id()
        ));
        std::fs::remove_dir_all(&profile).ok();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1366,768", "--hide-scrollbars", "--no-first-run",
                    "--no-default-browser-check", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--lang=zh-CN",
                    // The machine is offline as far as the pages know: only this host resolves.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let capabilities: Capabilities = capabilities;
        // chromedriver takes a moment to listen; a session is made once it does.
        let mut client = None;
        for _ in 0..200 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://{driver_addr}"))
                .await
            {
                Ok(made) => {
                    client = Some(made);
                    break;
                }
                Err(
                    fantoccini::error::NewSessionError::Failed(_)
                    | fantoccini::error::NewSessionError::FailedC(_),
                ) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => panic!("no session: {e}"),
            }
        }
        let client = client.expect("chromedriver did not come up");
        let session = client
            .session_id()
            .await
            .expect("a session")
            .expect("a session id");
        Some(Self {
            client,
            driver_addr,
            session,
            driver,
            profile,
            requests: Vec::new(),
            console: Vec::new(),
            expected: Vec::new(),
        })
    }

    /// Opens `url` and waits for its load event.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("open the page");
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it returns.
    pub async fn exec(&self, script: &str, args: Value) -> Value {
        let Value::Array(args) = args else {
            panic!("the arguments of a script are a list: {args}")
        };
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// The value of the JavaScript expression `expr`.
    pub async fn eval(&self, expr: &str) -> Value {
        self.exec(&format!("return ({expr});"), json!([])).await
    }

    /// Waits until the expression `expr` is truthy (at most `within`) and returns its value;
    /// fails with `what` and the expression's last value otherwise.
    pub async fn wait_for(&self, what: &str, expr: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let value = self.eval(expr).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("");
            if truthy {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within {within:?} (last value {value})"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Clicks the element `css` selects, as a user would (it must be visible and enabled).
    pub async fn click(&self, css: &str) {
        let element = self.element(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Replaces the text of the field `css` selects by typing `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.element(css).await;
        field.clear().await.expect("clear the field");
        field.send_keys(text).await.expect("type into the field");
    }

    /// Chooses the file at `path` in the file input `css` selects, as a user's file dialog does.
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) {
        let input = self.element(css).await;
        let path = path.to_str().expect("a file's path in UTF-8");
        input.send_keys(path).await.expect("choose the file");
    }

    /// Opens a new tab and switches to it; returns the handle of the tab it left.
    pub async fn new_tab(&self) -> String {
        let before = self.handle().await;
        let tab = self.client.new_window(true).await.expect("a new tab");
        self.client
            .switch_to_window(tab.handle)
            .await
            .expect("switch to the new tab");
        before
    }

    /// The handle of the current tab.
    pub async fn handle(&self) -> String {
        let handle = self.client.window().await.expect("the current tab");
        String::from(handle)
    }

    /// Switches to the tab `handle`.
    pub async fn switch_to(&self, handle: &str) {
        let handle = WindowHandle::try_from(handle.to_owned()).expect("a tab's handle");
        self.client
            .switch_to_window(handle)
            .await
            .expect("switch tabs");
    }

    /// Resizes the window.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
    }

    /// Saves a screenshot of the page, in a window `height` pixels tall, to `dir/name` when
    /// `COVERAGE_API_SCREENSHOTS` names a directory (`scripts/screenshots.sh`).
    pub async fn screenshot(&self, name: &str, height: u32) {
        let Some(dir) = std::env::var_os("COVERAGE_API_SCREENSHOTS") else {
            return;
        };
        self.resize(1366, height).await;
        self.exec("window.scrollTo(0, 0);", json!([])).await;
        let png = self.client.screenshot().await.expect("a PNG");
        self.resize(1366, 768).await;
        let path = Path::new(&dir).join(name);
        std::fs::write(&path, png).expect("write the screenshot");
        say(&format!("screenshot {}", path.display()));
    }

    /// The page as Chromium prints it (DevTools' `Page.printToPDF`, the page's own `@page` size,
    /// margins and margin boxes), as PDF bytes.
    pub async fn print_to_pdf(&self) -> Vec<u8> {
        use base64::Engine;
        let printed = self
            .client
            .issue_cmd(Cdp(
                "Page.printToPDF",
                json!({ "preferCSSPageSize": true, "printBackground": true }),
            ))
            .await
            .expect("print the page");
        let data = printed["data"].as_str().expect("the PDF, in base64");
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64")
    }

    /// The entries of chromedriver's log `kind` since it was last read.
    async fn log(&self, kind: &'static str) -> Vec<Value> {
        let entries = self
            .client
            .issue_cmd(Log(kind))
            .await
            .unwrap_or_else(|e| panic!("the {kind} log: {e}"));
        entries.as_array().cloned().unwrap_or_default()
    }

    async fn drain_logs(&mut self) {
        for entry in self.log("performance").await {
            let Some(text) = entry["message"].as_str() else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            let params = &event["message"]["params"];
            // Chromium's own pages (the blank tab it starts with) are not the pages under test.
            let document = params["documentURL"].as_str().unwrap_or_default();
            if document.starts_with("chrome:") || document.starts_with("about:") {
                continue;
            }
            let url = match event["message"]["method"].as_str() {
                Some("Network.requestWillBeSent") => params["request"]["url"].as_str(),
                Some("Network.webSocketCreated") => params["url"].as_str(),
                _ => None,
            };
            if let Some(url) = url {
                self.requests.push(url.to_owned());
            }
        }
        let console = self.log("browser").await;
        self.console.extend(console);
    }

    /// Every request the pages made so far (URLs, WebSockets included).
    pub async fn requests(&mut self) -> Vec<String> {
        self.drain_logs().await;
        self.requests.clone()
    }

    /// Tells [`Browser::assert_clean`] that console errors containing `text` are expected: e.g.
    /// Chromium's own "Failed to load resource" line for an answer a test provokes on purpose.
    pub fn expect_console_error(&mut self, text: &str) {
        self.expected.push(text.to_owned());
    }

    /// Fails unless every request so far went to `http://{addr}` or `ws://{addr}` (or was a
    /// `data:` URL inside a stylesheet) and the console holds no error (CSP refusals included)
    /// but those expected.
    pub async fn assert_clean(&mut self, addr: &str) {
        self.drain_logs().await;
        let foreign: Vec<&String> = self
            .requests
            .iter()
            .filter(|url| {
                !(url.starts_with(&format!("http://{addr}/"))
                    || url.starts_with(&format!("ws://{addr}/"))
                    || url.starts_with("data:"))
            })
            .collect();
        assert!(
            foreign.is_empty(),
            "requests left the server's origin: {foreign:?}"
        );
        assert!(
            !self.requests.is_empty(),
            "the performance log recorded the pages' requests"
        );
        let errors: Vec<&Value> = self
            .console
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .filter(|e| {
                let message = e["message"].as_str().unwrap_or_default();
                !self
                    .expected
                    .iter()
                    .any(|text| message.contains(text.as_str()))
            })
            .collect();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session (chromedriver then stops Chromium) with a plain blocking request: Drop
        // cannot await (fantoccini ends it from a task, which a failed test's runtime may never
        // run), and a test that failed must not leave a browser behind.
        if let Ok(mut stream) = std::net::TcpStream::connect(&self.driver_addr) {
            stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session, self.driver_addr
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut answer = Vec::new();
                stream.read_to_end(&mut answer).ok();
            }
        }
        self.driver.kill().ok();
        self.driver.wait().ok();
        std::fs::remove_dir_all(&self.profile).ok();
    }
}
