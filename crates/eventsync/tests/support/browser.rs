//! A headless Chromium driven through the DevTools protocol, for tests that do what a person
//! does in a browser: open a page, read what it shows, click, take a screenshot.
//!
//! Debian's `chromium` is used; where it is missing, [`find_or_install`] installs it with apt
//! (as root, with a time limit), and says why it could not when it cannot, so that a test can
//! skip rather than fail. The protocol is spoken over one WebSocket to one page target: a
//! command is `{id, method, params}` and its answer the message with the same `id`; the events
//! in between are not needed and are passed over.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Where Debian installs Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest one protocol command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest `apt-get update` and `apt-get install` may each take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// The Chromium binary, installed with apt if it is missing; `Err` says why there is none.
pub fn find_or_install() -> Result<PathBuf, String> {
    let chromium = PathBuf::from(CHROMIUM);
    if chromium.exists() {
        return Ok(chromium);
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(format!(
            "{CHROMIUM} is missing and this user is not root, so it cannot be installed here (apt-get install chromium)"
        ));
    }
    if !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!(
            "{CHROMIUM} is missing and there is no apt-get to install it"
        ));
    }
    eprintln!("{CHROMIUM} is missing: installing Debian's chromium package");
    for args in [
        &["update", "-qq"][..],
        // With its recommended fonts, so that screenshots show legible text.
        &["install", "-y", "-qq", "chromium"][..],
    ] {
        run_with_timeout(
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"),
            INSTALL_TIMEOUT,
        )
        .map_err(|why| {
            format!(
                "{CHROMIUM} is missing and apt-get {} failed: {why}",
                args[0]
            )
        })?;
    }
    if chromium.exists() {
        Ok(chromium)
    } else {
        Err(format!(
            "apt-get installed chromium but {CHROMIUM} is still missing"
        ))
    }
}

/// Runs `command` quietly, killing it past `limit`.
fn run_with_timeout(command: &mut Command, limit: Duration) -> Result<(), String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| error.to_string())?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                let mut stderr = String::new();
                if let Some(pipe) = child.stderr.as_mut() {
                    let _ = std::io::Read::read_to_string(pipe, &mut stderr);
                }
                return Err(format!("{status}: {}", stderr.trim()));
            }
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(error) => return Err(error.to_string()),
        }
    }
}

/// A headless Chromium with one page; killed, with its helper processes, when dropped.
pub struct Browser {
    process: Child,
    profile: PathBuf,
    page: Page,
}

impl Browser {
    /// Starts `chromium` headless with a fresh profile and opens the protocol to its page.
    pub async fn launch(chromium: &Path) -> Result<Browser, String> {
        let profile = std::env::temp_dir().join(format!(
            "eventsync-chromium-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&profile).map_err(|error| error.to_string())?;
        let mut process = Command::new(chromium)
            .args([
                "--headless=new",
                // Chromium's sandbox cannot run as root.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                // Everything the tests open is on loopback; nothing else is reached.
                "--no-proxy-server",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--window-size=1000,760",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // A group of its own, so that its helper processes go with it.
            .process_group(0)
            .spawn()
            .map_err(|error| format!("{} did not start: {error}", chromium.display()))?;
        let stderr = process.stderr.take().ok_or("no stderr")?;
        let (found, wait) = std::sync::mpsc::channel();
        // Reads the DevTools address, then keeps draining stderr so Chromium never blocks on it.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.strip_prefix("DevTools listening on ")
                    && let Some(sender) = found.take()
                {
                    let _ = sender.send(address.trim().to_string());
                }
            }
        });
        let mut browser = Browser {
            process,
            profile,
            page: Page::unconnected(),
        };
        let browser_socket =
            tokio::task::spawn_blocking(move || wait.recv_timeout(Duration::from_secs(30)))
                .await
                .map_err(|error| error.to_string())?
                .map_err(|_| "Chromium printed no DevTools address within 30 s".to_string())?;
        // ws://127.0.0.1:PORT/devtools/browser/ID: the page targets are listed at /json/list.
        let origin = browser_socket
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| format!("an odd DevTools address: {browser_socket}"))?
            .to_string();
        let targets: Value = reqwest::get(format!("http://{origin}/json/list"))
            .await
            .map_err(|error| format!("the DevTools target list: {error}"))?
            .json()
            .await
            .map_err(|error| format!("the DevTools target list: {error}"))?;
        let page_socket = targets
            .as_array()
            .into_iter()
            .flatten()
            .find(|target| target["type"] == "page")
            .and_then(|target| target["webSocketDebuggerUrl"].as_str())
            .ok_or_else(|| format!("Chromium lists no page: {targets}"))?
            .to_string();
        let (socket, _) = tokio_tungstenite::connect_async(page_socket.as_str())
            .await
            .map_err(|error| format!("the page's DevTools socket: {error}"))?;
        browser.page.socket = Some(socket);
        browser.page.call("Page.enable", json!({})).await?;
        browser.page.call("Runtime.enable", json!({})).await?;
        Ok(browser)
    }

    pub fn page(&mut self) -> &mut Page {
        &mut self.page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = self.process.id() as i32;
        // SAFETY: kill has no memory preconditions; the group is the one this browser leads.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The browser's page, as the protocol sees it.
pub struct Page {
    socket: Option<Socket>,
    next_id: u64,
}

impl Page {
    fn unconnected() -> Page {
        Page {
            socket: None,
            next_id: 0,
        }
    }

    /// Sends one command and waits for its answer.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let socket = self.socket.as_mut().ok_or("the page is not connected")?;
        let command = json!({"id": id, "method": method, "params": params});
        socket
            .send(Message::text(command.to_string()))
            .await
            .map_err(|error| format!("{method}: {error}"))?;
        let answer = tokio::time::timeout(COMMAND_TIMEOUT, async {
            while let Some(message) = socket.next().await {
                let text = match message.map_err(|error| error.to_string())? {
                    Message::Text(text) => text,
                    Message::Close(_) => return Err("the page closed its socket".to_string()),
                    _ => continue,
                };
                let message: Value =
                    serde_json::from_str(text.as_str()).map_err(|error| error.to_string())?;
                if message["id"].as_u64() == Some(id) {
                    return Ok(message);
                }
            }
            Err("the page closed its socket".to_string())
        })
        .await
        .map_err(|_| format!("{method}: no answer within {} s", COMMAND_TIMEOUT.as_secs()))?
        .map_err(|error| format!("{method}: {error}"))?;
        if let Some(error) = answer.get("error") {
            return Err(format!("{method}: {error}"));
        }
        Ok(answer["result"].clone())
    }

    /// Opens `url` as if typed into the address bar, following redirects.
    pub async fn open(&mut self, url: &str) -> Result<(), String> {
        let answer = self.call("Page.navigate", json!({"url": url})).await?;
        if let Some(error) = answer["errorText"].as_str() {
            return Err(format!("{url}: {error}"));
        }
        self.wait_until("the page to load", "document.readyState === 'complete'")
            .await
    }

    /// The value of a JavaScript expression in the page.
    pub async fn evaluate(&mut self, expression: &str) -> Result<Value, String> {
        let answer = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        if let Some(exception) = answer.get("exceptionDetails") {
            return Err(format!("{expression}: {exception}"));
        }
        Ok(answer["result"]["value"].clone())
    }

    /// Waits, for at most 15 s, until `expression` is true in the page.
    pub async fn wait_until(&mut self, what: &str, expression: &str) -> Result<(), String> {
        let started = Instant::now();
        loop {
            // A navigation under way may destroy the context an evaluation ran in: try again.
            if let Ok(Value::Bool(true)) = self.evaluate(expression).await {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(15) {
                let shown = self.text().await.unwrap_or_default();
                return Err(format!("waited 15 s for {what}; the page shows: {shown}"));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until an element matching `selector` is on the page.
    pub async fn wait_for(&mut self, selector: &str) -> Result<(), String> {
        let expression = format!(
            "document.readyState === 'complete' && document.querySelector({}) !== null",
            json!(selector)
        );
        self.wait_until(selector, &expression).await
    }

    /// The address the page shows.
    pub async fn url(&mut self) -> Result<String, String> {
        Ok(self
            .evaluate("location.href")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The text of the page, as a person reads it.
    pub async fn text(&mut self) -> Result<String, String> {
        Ok(self
            .evaluate("document.body ? document.body.innerText : ''")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The current value of the input with id `id`.
    pub async fn input_value(&mut self, id: &str) -> Result<String, String> {
        let expression = format!(
            "(function () {{ const input = document.getElementById({}); return input ? input.value : null; }})()",
            json!(id)
        );
        match self.evaluate(&expression).await? {
            Value::String(value) => Ok(value),
            _ => Err(format!("no input #{id} on the page")),
        }
    }

    /// Clicks the middle of the element matching `selector` with the mouse, as a person does.
    pub async fn click(&mut self, selector: &str) -> Result<(), String> {
        let expression = format!(
            "(function () {{ const element = document.querySelector({}); if (!element) return null; \
             element.scrollIntoView({{block: 'center'}}); const box = element.getBoundingClientRect(); \
             return [box.left + box.width / 2, box.top + box.height / 2]; }})()",
            json!(selector)
        );
        let point = self.evaluate(&expression).await?;
        let (Some(x), Some(y)) = (point[0].as_f64(), point[1].as_f64()) else {
            return Err(format!("nothing to click at {selector}"));
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await?;
        }
        Ok(())
    }

    /// Types `text` into the field matching `selector`, as a keyboard does, after emptying it.
    #[allow(dead_code)]
    pub async fn type_into(&mut self, selector: &str, text: &str) -> Result<(), String> {
        let expression = format!(
            "(function () {{ const field = document.querySelector({}); if (!field) return false; \
             field.focus(); field.value = ''; return true; }})()",
            json!(selector)
        );
        if self.evaluate(&expression).await? != Value::Bool(true) {
            return Err(format!("no field {selector} to type into"));
        }
        self.call("Input.insertText", json!({"text": text})).await?;
        Ok(())
    }

    /// Chooses `file` in the file input matching `selector`, as the file dialog would.
    #[allow(dead_code)]
    pub async fn choose_file(&mut self, selector: &str, file: &Path) -> Result<(), String> {
        let found = self
            .call(
                "Runtime.evaluate",
                json!({"expression": format!("document.querySelector({})", json!(selector))}),
            )
            .await?;
        let object = found["result"]["objectId"]
            .as_str()
            .ok_or_else(|| format!("no file input {selector}"))?
            .to_string();
        self.call(
            "DOM.setFileInputFiles",
            json!({"files": [file.display().to_string()], "objectId": object}),
        )
        .await?;
        Ok(())
    }

    /// Presses and releases one key (`Tab`, `Enter`…) where the focus is.
    #[allow(dead_code)]
    pub async fn press(&mut self, key: &str, code: u32) -> Result<(), String> {
        for kind in ["rawKeyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}),
            )
            .await?;
        }
        Ok(())
    }

    /// Shows pages as a screen `width` × `height` CSS pixels wide would (a laptop, a tablet).
    #[allow(dead_code)]
    pub async fn resize(&mut self, width: u32, height: u32) -> Result<(), String> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await?;
        Ok(())
    }

    /// Saves what the page shows as a PNG at `path`.
    pub async fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        let answer = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await?;
        let data = answer["data"].as_str().ok_or("no screenshot data")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|error| error.to_string())?;
        std::fs::write(path, png).map_err(|error| format!("{}: {error}", path.display()))
    }
}
