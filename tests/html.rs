//! The space-time diagram: a self-contained page that renders a real failing run in a real
//! browser. The browser checks need Chromium; without it they say so on the terminal and pass
//! (or fail, with `FENCEPOST_REQUIRE_CHROMIUM` set).

use fencepost::RunRequest;
use sim::trace::{DetailedRecord, Record, RecordKind, NO_ENDPOINT};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STORE: u32 = u32::MAX;

fn run(scenario: &str, seed: u64, canary: Option<&str>) -> Vec<DetailedRecord> {
    let request = RunRequest::seed(seed).with_canary(canary).capturing();
    let registry = scenarios::registry();
    let report = registry.find(scenario).expect("registered").run(&request);
    report.captured.expect("capture was on")
}

/// The failing canary run the README points at.
fn canary_run() -> Vec<DetailedRecord> {
    let records = run("pingpong", 2, Some("grant-from-receipt"));
    assert_eq!(records.last().unwrap().record.kind, RecordKind::Violation, "the canary fails");
    records
}

/// How many lanes the page should draw: every endpoint named by a record.
fn lanes_of(records: &[DetailedRecord]) -> usize {
    let mut ids: Vec<u32> = records
        .iter()
        .flat_map(|r| [r.record.node, r.record.peer])
        .filter(|&id| id != NO_ENDPOINT)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// The JSON block the page embeds, parsed back.
fn embedded_data(page: &str) -> serde_json::Value {
    let open = r#"<script type="application/json" id="trace-data">"#;
    let start = page.find(open).expect("a data block") + open.len();
    let end = start + page[start..].find("</script>").expect("the data block ends");
    serde_json::from_str(&page[start..end]).expect("the data block is JSON")
}

#[test]
fn the_page_is_self_contained_and_embeds_every_record() {
    let records = canary_run();
    let page = fencepost::html::render("pingpong seed 2", &records);
    for remote in ["http://", "https://", "<link", " src=", "@import", "url("] {
        assert!(!page.contains(remote), "the page must load nothing: found {remote:?}");
    }
    let data = embedded_data(&page);
    assert_eq!(data["step"].as_array().unwrap().len(), records.len());
    let last = records.last().unwrap();
    assert_eq!(data["detail"].as_array().unwrap().last().unwrap(), last.detail.as_str());
    assert_eq!(data["kind"].as_array().unwrap().last().unwrap(), "violation");
    let hash = format!("{:016x}", records[20].record.payload_hash);
    assert_eq!(data["payload_hash"][20], hash.as_str(), "hashes survive JavaScript's 53 bits");
    assert!(page.contains("<title>pingpong seed 2 · fencepost</title>"));
}

#[test]
fn details_and_titles_cannot_break_out_of_the_page() {
    let nasty = "</script><script>alert(1)</script><!-- {{DATA}} ";
    let mut records = canary_run();
    records[0].detail = nasty.to_string();
    let page = fencepost::html::render("<b>&{{SCRIPT}}", &records);
    assert_eq!(page.matches("</script>").count(), 2, "only the data and code blocks close");
    assert!(!page.contains("<!--"));
    assert!(page.contains("<title>&lt;b&gt;&amp;{{SCRIPT}} · fencepost</title>"));
    assert_eq!(embedded_data(&page)["detail"][0], nasty);
    assert_eq!(embedded_data(&page)["title"], "<b>&{{SCRIPT}}");
}

// ---------------------------------------------------------------- in the browser

fn chromium() -> Option<PathBuf> {
    let candidates = ["/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"];
    candidates.iter().map(PathBuf::from).find(|c| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}

/// Says a browser check was skipped where `cargo test` shows it: the harness captures the
/// `eprintln!` of a passing test, so the notice is written to the process's stderr directly.
/// With `FENCEPOST_REQUIRE_CHROMIUM` set (a CI that installs Chromium), a missing browser fails
/// the test instead, so it cannot go unnoticed there.
fn skip(test: &str) {
    let notice = format!("{test}: chromium not installed, browser check SKIPPED");
    if std::env::var_os("FENCEPOST_REQUIRE_CHROMIUM").is_some() {
        panic!("{notice}, but FENCEPOST_REQUIRE_CHROMIUM is set: apt-get install chromium");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n{notice} (apt-get install chromium to run it)");
}

/// A fresh directory for one test's page and browser profile.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fencepost-html-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `url` with `mode` (`--dump-dom`, `--screenshot=...`); returns
/// stdout. Killed after two minutes so a stuck browser fails the test instead of hanging it
/// (a watchdog over a real process: host time is right here, nothing simulated runs).
#[allow(clippy::disallowed_methods)]
fn headless(browser: &Path, dir: &Path, url: &str, mode: &[&str]) -> String {
    let profile =
        dir.join(format!("profile-{}", mode[0].trim_start_matches('-').replace('=', "-")));
    let out_path = dir.join("chromium.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        .args(["--disable-quic", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--virtual-time-budget=5000")
        .args(mode)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(out_path).unwrap()
}

/// The attributes of the rendered `<body>`.
fn body_attribute(dom: &str, name: &str) -> Option<String> {
    let body = &dom[dom.find("<body").expect("a body")..];
    let body = &body[..body.find('>').unwrap()];
    let key = format!("{name}=\"");
    let start = body.find(&key)? + key.len();
    Some(body[start..start + body[start..].find('"').unwrap()].to_string())
}

/// Writes the page, opens it, and returns the rendered DOM.
fn render_in_browser(browser: &Path, name: &str, records: &[DetailedRecord], hash: &str) -> String {
    let dir = scratch(name);
    let page = dir.join("diagram.html");
    std::fs::write(&page, fencepost::html::render(name, records)).unwrap();
    let url = format!("file://{}{hash}", page.display());
    let dom = headless(browser, &dir, &url, &["--dump-dom"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(body_attribute(&dom, "data-events").as_deref(), Some(&*records.len().to_string()));
    assert_eq!(
        body_attribute(&dom, "data-lanes").as_deref(),
        Some(&*lanes_of(records).to_string()),
        "one lane per node, plus the store when it appears"
    );
    dom
}

#[test]
fn the_failing_canary_run_renders_in_chromium() {
    let Some(browser) = chromium() else {
        return skip("the_failing_canary_run_renders_in_chromium");
    };
    let records = canary_run();
    assert_eq!(lanes_of(&records), 6, "pingpong: six nodes, no store");
    let dom = render_in_browser(&browser, "pingpong seed 2", &records, "");
    assert_eq!(body_attribute(&dom, "data-violation").as_deref(), Some("1"));
    assert!(dom.contains(r#"id="violation""#), "the violation marker exists");
    assert!(dom.contains("GrantUniqueness: clients n1 and n3 both believe they hold the grant"));

    let dir = scratch("screenshot");
    let page = dir.join("diagram.html");
    std::fs::write(
        &page,
        fencepost::html::render("pingpong seed 2 (canary grant-from-receipt)", &records),
    )
    .unwrap();
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-screenshot.png");
    let _ = std::fs::remove_file(&png);
    let shot = format!("--screenshot={}", png.display());
    headless(
        &browser,
        &dir,
        &format!("file://{}", page.display()),
        &[&shot, "--window-size=1400,900"],
    );
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000, "a real picture");
    eprintln!("screenshot: {}", png.display());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_passing_run_with_the_store_renders_without_a_violation() {
    let Some(browser) = chromium() else {
        return skip("a_passing_run_with_the_store_renders_without_a_violation");
    };
    let records = run("lease", 1, None);
    assert!(records.iter().any(|r| r.record.node == STORE || r.record.peer == STORE));
    let dom = render_in_browser(&browser, "lease seed 1", &records, "");
    assert_eq!(body_attribute(&dom, "data-violation").as_deref(), Some("0"));
    assert!(!dom.contains(r#"id="violation""#));
}

/// 100,000 records (synthetic: a real run that long would slow the test down) load, and redraws
/// stay interactive: zoomed in, a redraw must not pay for the whole trace.
#[test]
fn a_hundred_thousand_events_stay_interactive() {
    let Some(browser) = chromium() else {
        return skip("a_hundred_thousand_events_stay_interactive");
    };
    let records = synthetic_trace(100_000);
    let dom = render_in_browser(&browser, "synthetic", &records, "#bench");
    assert_eq!(body_attribute(&dom, "data-violation").as_deref(), Some("1"));
    let ms = |name| body_attribute(&dom, name).and_then(|v| v.parse::<f64>().ok()).unwrap();
    let (first, wide, zoomed) =
        (ms("data-render-ms"), ms("data-redraw-wide-ms"), ms("data-redraw-zoomed-ms"));
    eprintln!("100,000 records: load and first draw {first} ms, redraw {wide} ms (whole run), {zoomed} ms (zoomed in)");
    // Generous bounds for shared CI machines; drawing every event costs tens of milliseconds
    // and culling brings a zoomed-in redraw down to a few.
    assert!(zoomed < 60.0, "a zoomed-in redraw took {zoomed} ms: is the visible window culled?");
    assert!(wide < 1500.0 && first < 10_000.0, "whole-run redraw {wide} ms, first draw {first} ms");
}

/// A trace shaped like a real one: 8 nodes and the store; messages with duplicates, reorders
/// and drops; timers; storage round trips; labels; partitions, pauses, clock jumps, crashes;
/// and a violation at the end. Records are 0.1 ms apart.
fn synthetic_trace(len: usize) -> Vec<DetailedRecord> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut trace = Synthetic(Vec::with_capacity(len + 4));
    let none = NO_ENDPOINT;
    let (mut pending_store, mut faults) = (None, 0);
    // Faults under way: (ends at, index, text, the node that crashed).
    let mut ending: Vec<(u64, u64, String, Option<u32>)> = Vec::new();
    while trace.0.len() < len - 1 {
        let now = trace.now();
        let (a, b) = (random(8) as u32, random(8) as u32);
        if let Some(at) = ending.iter().position(|&(due, ..)| due <= now) {
            let (_, index, fault, crashed) = ending.remove(at);
            trace.add(RecordKind::FaultEnd, none, none, index, format!("end of {fault}"));
            if let Some(node) = crashed {
                trace.add(RecordKind::Boot, node, none, 1, "boot incarnation 1".into());
            }
            continue;
        }
        let sent = now.saturating_sub(1_000_000 + random(19_000_000));
        match random(1000) {
            0..=499 => {
                let detail = format!("Request {{ seq: {} }}", random(1 << 40));
                if random(30) == 0 {
                    trace.add(RecordKind::Deliver, a, b, sent, detail.clone()); // a duplicate
                }
                trace.add(RecordKind::Deliver, a, b, sent, detail);
            }
            500..=539 => {
                trace.add(RecordKind::Drop, a, b, sent, "Deny { seq: 3 } (in flight)".into())
            }
            540..=549 => trace.add(RecordKind::Drop, a, b, now, "Deny { seq: 4 }".into()),
            550..=749 => trace.add(RecordKind::Timer, a, none, 0, "timer 0".into()),
            750..=849 => match pending_store.take() {
                None => {
                    pending_store = Some((a, now));
                    trace.add(RecordKind::StoreApply, a, STORE, now, "Get { key: \"k\" }".into());
                }
                Some((node, request)) => {
                    trace.add(
                        RecordKind::StoreReply,
                        node,
                        STORE,
                        request,
                        "Got { object: None }".into(),
                    );
                }
            },
            850..=949 => {
                let label = match random(3) {
                    0 => format!("leader t{}", random(9)),
                    1 => "follower".to_string(),
                    _ => format!("holds until {}", 1_000_000_000_000 + now),
                };
                trace.add(RecordKind::State, a, none, 0, label);
            }
            950..=996 => {
                let detail = format!("{{\"action\":\"Tick\",\"node\":{a},\"changed\":{{}}}}");
                trace.add(RecordKind::Action, a, none, 0, detail);
            }
            _ => {
                faults += 1;
                let lasts = 5_000_000 + random(40_000_000);
                let (fault, crashed) = match random(4) {
                    0 => (format!("Partition {{ partition: IsolateOne {{ node: {a} }}, duration_ns: {lasts} }}"), None),
                    1 => (format!("Pause {{ node: {a}, duration_ns: {lasts} }}"), None),
                    2 => (format!("ClockJump {{ node: {a}, delta_ns: -{} }}", random(9_000_000)), None),
                    _ => (format!("Crash {{ node: {a}, down_ns: {lasts} }}"), Some(a)),
                };
                trace.add(RecordKind::FaultBegin, none, none, faults, fault.clone());
                if let Some(node) = crashed {
                    trace.add(RecordKind::Crash, node, none, 0, "crash of incarnation 0".into());
                    trace.add(RecordKind::State, node, none, 0, "down".into());
                }
                ending.push((now + lasts, faults, fault, crashed));
            }
        }
    }
    trace.0.truncate(len - 1);
    trace.add(RecordKind::Violation, none, none, 0, "Invariant: n1 and n3 both lead".into());
    trace.0
}

struct Synthetic(Vec<DetailedRecord>);

impl Synthetic {
    fn now(&self) -> u64 {
        self.0.len() as u64 * 100_000
    }

    fn add(&mut self, kind: RecordKind, node: u32, peer: u32, aux: u64, detail: String) {
        let (step, time_ns) = (self.0.len() as u64, self.now());
        let payload_hash = sim::trace::stable_hash(&detail);
        self.0.push(DetailedRecord {
            record: Record { step, time_ns, kind, node, peer, aux, payload_hash },
            detail,
        });
    }
}

/// A label as the gutter shows it: nanosecond figures of seven digits or more as seconds.
fn label_as_shown(detail: &str) -> String {
    detail
        .split(' ')
        .map(|word| match word.parse::<u64>() {
            Ok(ns) if word.len() >= 7 => format!("{:.6} s", ns as f64 / 1e9),
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The gutter's labels as the page reports them (`data-gutter-labels`), lane by lane.
fn gutter_labels(browser: &Path, name: &str, records: &[DetailedRecord]) -> Vec<String> {
    let dir = scratch(name);
    let page = dir.join("diagram.html");
    std::fs::write(&page, fencepost::html::render(name, records)).unwrap();
    let url = format!("file://{}", page.display());
    // Tall enough that every lane has room for its label.
    let dom = headless(browser, &dir, &url, &["--dump-dom", "--window-size=1400,1400"]);
    let _ = std::fs::remove_dir_all(&dir);
    let labels = body_attribute(&dom, "data-gutter-labels").expect("the gutter's labels");
    labels.split(" | ").map(str::to_string).collect()
}

/// Goal: a lane's label says the node's state where the reader looks, never a stale one.
/// Method: the failing canary run opens on the violation; the gutter labels of the two clients
/// that both believe they hold the grant are their states at the violation (not `grant until
/// 0` from the window's left edge), with their deadlines in seconds, not raw nanoseconds.
#[test]
fn lane_labels_show_the_state_at_the_violation() {
    let Some(browser) = chromium() else {
        return skip("lane_labels_show_the_state_at_the_violation");
    };
    let records = canary_run();
    let at = records.last().unwrap().record.time_ns;
    let labels = gutter_labels(&browser, "labels", &records);
    for node in [1, 3] {
        let state = records
            .iter()
            .filter(|r| r.record.kind == RecordKind::State && r.record.node == node)
            .rfind(|r| r.record.time_ns <= at)
            .expect("a state before the violation");
        let expected = format!("n{node}: {}", label_as_shown(&state.detail));
        assert!(labels.contains(&expected), "{expected} in {labels:?}");
        assert!(!expected.ends_with("until 0"), "a believer holds a live grant: {expected}");
    }
    let lease = gutter_labels(&browser, "lease-labels", &run("lease", 1, None));
    let raw = lease.iter().find(|l| l.split(' ').any(|w| w.len() >= 7 && w.parse::<u64>().is_ok()));
    assert_eq!(raw, None, "no raw nanoseconds in {lease:?}");
}
